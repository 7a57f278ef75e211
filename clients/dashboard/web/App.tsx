import { useState } from "react";
import type { DashboardConfig } from "./config";
import { Dashboard } from "./Dashboard";
import { SignIn } from "./SignIn";

const TOKEN_KEY = "kombify.dashboard.token";

/** The token lives in this tab's sessionStorage: gone when the tab closes, never shared with other tabs. */
function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage refused (a private window): the token then lasts as long as the page.
  }
}

export function App({ config }: { config: DashboardConfig }) {
  const [token, setToken] = useState<string | null>(storedToken);
  const [notice, setNotice] = useState<string | null>(null);

  if (!token) {
    return (
      <SignIn
        suggested={config.demoToken}
        notice={notice}
        onSignIn={(entered) => {
          storeToken(entered);
          setNotice(null);
          setToken(entered);
        }}
      />
    );
  }
  return (
    <Dashboard
      key={token}
      config={config}
      token={token}
      onSignOut={(reason) => {
        storeToken(null);
        setNotice(reason ?? null);
        setToken(null);
      }}
    />
  );
}
