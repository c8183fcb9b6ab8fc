import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router-dom";
import { ApiError } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
import { useFocusFirstInvalid } from "../lib/useFocusFirstInvalid";
import { validateEmail } from "../lib/validation";
import { usePageTitle } from "../lib/usePageTitle";

export function Login() {
  usePageTitle("Log in");
  const { state, login, endedReason } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/history";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<{ email?: string | null; password?: string | null }>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const focusFirstInvalid = useFocusFirstInvalid();

  if (state === "signed-in" && !busy) return <Navigate to={from} replace />;

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    const v = { email: validateEmail(email), password: password ? null : "Enter your password." };
    setErrors(v);
    if (v.email || v.password) {
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      await login(email.trim(), password);
      navigate(from, { replace: true });
    } catch (err) {
      // Only on failure: on success the page is left, and clearing "busy" first would let the
      // signed-in redirect below win over the navigation (router updates are transitions).
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) {
        setServerError("That e-mail and password don't match an account. Check them and try again.");
      } else if (err instanceof ApiError) {
        setServerError(err.message);
      } else {
        setServerError("Something went wrong. Please try again.");
      }
      setPassword("");
    }
  };

  return (
    <div className="container page auth-page">
      <div className="auth-card">
        <h1>Log in</h1>
        <p className="muted">Welcome back.</p>
        {endedReason && !serverError && <Alert tone="info">{endedReason}</Alert>}
        {serverError && (
          <Alert tone="error" testId="form-error">
            {serverError}
          </Alert>
        )}
        <form onSubmit={onSubmit} noValidate aria-busy={busy}>
          <Field
            label="E-mail"
            name="email"
            type="email"
            autoComplete="username"
            inputMode="email"
            value={email}
            onChange={(e) => {
              setEmail(e.target.value);
              setErrors((er) => ({ ...er, email: null }));
            }}
            error={errors.email}
            required
          />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => {
              setPassword(e.target.value);
              setErrors((er) => ({ ...er, password: null }));
            }}
            error={errors.password}
            required
          />
          <button type="submit" className="btn btn--primary btn--block" disabled={busy}>
            {busy ? "Logging in…" : "Log in"}
          </button>
        </form>
        <p className="auth-card__foot">
          New to Bloomwell? <Link to="/signup">Create an account</Link>
        </p>
      </div>
    </div>
  );
}
