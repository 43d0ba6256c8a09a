/** A rule's Enabled switch: saves on its own (PATCH {enabled}); disabled for keys that cannot write. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { useCan } from '../auth';
import type { Rule } from '../rules';

export function EnabledSwitch({ rule, inList = false }: { rule: Rule; inList?: boolean }) {
  const can = useCan();
  const queryClient = useQueryClient();
  const toggle = useMutation({
    mutationFn: (enabled: boolean) =>
      unwrap(api.PATCH('/rules/{id}', { params: { path: { id: rule.id } }, body: { enabled } })),
    onSuccess: (saved) => {
      queryClient.setQueryData<Rule[]>(['rules'], (all) => all?.map((r) => (r.id === saved.id ? saved : r)));
      queryClient.setQueryData(['rule', saved.id], saved);
    },
  });
  return (
    <label className={inList ? 'switch' : 'check switch-big'}>
      <input
        type="checkbox"
        checked={toggle.isPending ? toggle.variables : rule.enabled}
        disabled={!can.write || toggle.isPending}
        onChange={(e) => toggle.mutate(e.target.checked)}
        // In the list, the rule's name tells the rows' switches apart.
        aria-label={inList ? `Enabled: ${rule.name}` : undefined}
      />
      {inList ? null : ' Enabled'}
      {toggle.error && <span className="error"> {toggle.error.message}</span>}
    </label>
  );
}
