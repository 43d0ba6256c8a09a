/** Sign in with an API key; the API decides whether it is valid (GET /account). */
import { useState, type FormEvent } from 'react';
import { ApiProblem } from '../api/client';
import { useSession } from '../auth';
import { Field } from '../components/Field';

export default function SignIn() {
  const { signIn } = useSession();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(key.trim());
    } catch (err) {
      setError(err instanceof ApiProblem ? err.message : 'The API could not be reached.');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <h1>CRM Automation Engine</h1>
      <form onSubmit={(e) => void submit(e)}>
        <Field label="API key" error={error} hint="Kept in this browser tab only; signing out forgets it.">
          <input
            type="password"
            autoComplete="off"
            spellCheck={false}
            required
            value={key}
            onChange={(e) => setKey(e.target.value)}
          />
        </Field>
        <button type="submit" disabled={busy || !key.trim()}>
          Sign in
        </button>
      </form>
    </main>
  );
}
