/**
 * One tick of a scheduled rule, started by the rule's Temporal Schedule: wait the rule's delay, then page
 * through the account's users, evaluating the rule for each and delivering to those that match.
 * Pages continue-as-new, so a tick over 100,000 users keeps each history small; idempotency keys are
 * built from the tick's workflow id (which continue-as-new keeps) and the user, so a tick never
 * delivers twice to one user.
 */
import { continueAsNew, proxyActivities, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TickInput, TickResult, TickState } from '../shared/run-types';
import { runAction } from './actions';
import { recordingOutcome } from './outcome';

export const TICK_PAGE_SIZE = 200;
const PAGES_PER_RUN = 5;
const MAX_RECORDED_FAILURES = 100;
/** Deliveries in flight at once within a page. */
const CONCURRENCY = 50;

const { prepareTickPage } = proxyActivities<Activities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

export async function scheduledRuleWorkflow(input: TickInput): Promise<TickResult> {
  return recordingOutcome(() => runTick(input));
}

async function runTick(input: TickInput): Promise<TickResult> {
  const { workflowId } = workflowInfo();
  const state: TickState = input.state ?? {
    startedAt: new Date().toISOString(),
    afterSeq: null,
    delayDone: false,
    checked: 0,
    matched: 0,
    delivered: 0,
    failed: 0,
    failures: [],
  };
  const result = (
    outcome: TickResult['outcome'],
    ruleVersion: number | null,
    reason?: string,
  ): TickResult => ({
    outcome,
    ruleId: input.ruleId,
    ruleVersion,
    ...(reason && { reason }),
    checked: state.checked,
    matched: state.matched,
    delivered: state.delivered,
    failed: state.failed,
    failures: state.failures,
  });

  for (let pages = 0; ; pages++) {
    if (pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof scheduledRuleWorkflow>({ ...input, state });
    }
    const page = await prepareTickPage.executeWithOptions(
      { summary: `check users after #${state.afterSeq ?? 0}` },
      [
        {
          accountId: input.accountId,
          ruleId: input.ruleId,
          tickId: workflowId,
          tickAt: state.startedAt,
          afterSeq: state.afterSeq,
          pageSize: TICK_PAGE_SIZE,
        },
      ],
    );
    if (page.status === 'skipped') {
      setCurrentDetails(`Skipped: ${page.reason}`);
      return result('skipped', null, page.reason);
    }
    // The delay applies after each tick; the first page only tells us what it is. A rule with a send
    // window has a sendAt (computed in the activity, so it is recorded): its tick's time plus the
    // delay, moved to the window's next opening. Pages without it take the old path unchanged.
    if (!state.delayDone) {
      state.delayDone = true;
      if (page.sendAt !== undefined) {
        const waitMs = Date.parse(page.sendAt) - Date.now();
        if (waitMs > 0) {
          setCurrentDetails(`Waiting until ${page.sendAt} (${page.delayText}, ${page.windowText}).`);
          await sleep(waitMs, { summary: `wait for the window until ${page.sendAt}` });
          continue;
        }
      } else if (page.delayMs > 0) {
        setCurrentDetails(`Waiting ${page.delayText} before checking users.`);
        await sleep(page.delayMs, { summary: `wait ${page.delayText}` });
        continue;
      }
    }

    const jobs = page.matches.flatMap((m) =>
      m.actions.map(
        (action) => () =>
          runAction(input.accountId, input.ruleId, `${workflowId}.user-${m.userId}`, action).then((o) => ({
            userId: m.userId,
            o,
          })),
      ),
    );
    for (let i = 0; i < jobs.length; i += CONCURRENCY) {
      for (const { userId, o } of await Promise.all(jobs.slice(i, i + CONCURRENCY).map((j) => j()))) {
        if (o.outcome === 'sent') state.delivered += 1;
        else {
          state.failed += 1;
          if (state.failures.length < MAX_RECORDED_FAILURES)
            state.failures.push({ userId, action: o.index, error: o.error ?? '' });
        }
      }
    }
    state.checked += page.checked;
    state.matched += page.matches.length;
    state.afterSeq = page.nextAfterSeq;
    setCurrentDetails(
      `Checked ${state.checked} users: ${state.matched} matched, ${state.delivered} delivered, ${state.failed} failed.`,
    );
    if (!page.nextAfterSeq) return result('completed', page.ruleVersion);
  }
}
