import { useEffect, useRef, useState, type FormEvent } from "react";
import { ErrorNote } from "./ui";

export function SignIn({ suggested, notice, onSignIn }: { suggested?: string; notice: string | null; onSignIn: (token: string) => void }) {
  const [token, setToken] = useState(suggested ?? "");
  const [problem, setProblem] = useState<string | null>(null);
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = token.trim().replace(/^Bearer\s+/i, "");
    if (!value) {
      setProblem("Enter an access token.");
      field.current?.focus();
      return;
    }
    onSignIn(value);
  }

  return (
    <main id="main" className="sign-in">
      <h1>kombify dashboard</h1>
      <p>Watch your stacks, their deploys and your simulations live.</p>
      {notice ? <ErrorNote>{notice}</ErrorNote> : null}
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">Access token</label>
        <input
          ref={field}
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(event) => {
            setToken(event.target.value);
            setProblem(null);
          }}
          aria-describedby="token-help"
          aria-invalid={problem ? true : undefined}
          aria-errormessage={problem ? "token-problem" : undefined}
        />
        <p id="token-help" className="help">
          A bearer token from your organisation's sign-in. It is kept in this browser tab only.
          {suggested ? " Development: the demo user's token from pnpm start is filled in." : null}
        </p>
        {problem ? (
          <p id="token-problem" className="error-note" role="alert">
            {problem}
          </p>
        ) : null}
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
    </main>
  );
}
