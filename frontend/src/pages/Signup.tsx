import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate } from "react-router-dom";
import { signup } from "../api/auth";
import { ApiError } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
import { useFocusFirstInvalid } from "../lib/useFocusFirstInvalid";
import { PASSWORD_MIN, validateEmail, validateName, validateNewPassword, validatePasswordConfirmation } from "../lib/validation";
import { usePageTitle } from "../lib/usePageTitle";

type Errors = Partial<Record<"first_name" | "last_name" | "email" | "password" | "confirm", string | null>>;

export function Signup() {
  usePageTitle("Create your account");
  const { state, login } = useAuth();
  const navigate = useNavigate();
  const [form, setForm] = useState({ first_name: "", last_name: "", email: "", password: "", confirm: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const focusFirstInvalid = useFocusFirstInvalid();
  const [accepted, setAccepted] = useState(false);
  const [acceptError, setAcceptError] = useState<string | null>(null);

  if (state === "signed-in" && !busy) return <Navigate to="/new" replace />;

  const set = (k: keyof typeof form) => (e: React.ChangeEvent<HTMLInputElement>) => {
    setForm((f) => ({ ...f, [k]: e.target.value }));
    if (errors[k]) setErrors((er) => ({ ...er, [k]: null }));
  };

  const validate = (): Errors => ({
    first_name: validateName(form.first_name, "first name"),
    last_name: validateName(form.last_name, "last name"),
    email: validateEmail(form.email),
    password: validateNewPassword(form.password),
    confirm: validatePasswordConfirmation(form.password, form.confirm),
  });

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setServerError(null);
    const v = validate();
    setErrors(v);
    const acceptMsg = accepted ? null : "Please confirm you understand Bloomwell is not a diagnosis.";
    setAcceptError(acceptMsg);
    if (Object.values(v).some(Boolean) || acceptMsg) {
      focusFirstInvalid();
      return;
    }
    setBusy(true);
    try {
      const email = form.email.trim();
      await signup({ email, password: form.password, first_name: form.first_name.trim(), last_name: form.last_name.trim() });
      await login(email, form.password);
      navigate("/new", { replace: true, state: { welcome: true } });
    } catch (err) {
      // Only on failure: on success the page is left, and clearing "busy" first would let the
      // signed-in redirect below win over the navigation (router updates are transitions).
      setBusy(false);
      if (err instanceof ApiError) {
        if (err.status === 409) {
          setErrors((er) => ({ ...er, email: "An account with this e-mail already exists. Try logging in instead." }));
          focusFirstInvalid();
        } else if (err.status === 422 && Object.keys(err.fieldErrors).length) {
          const fe = err.fieldErrors;
          setErrors((er) => ({
            ...er,
            email: fe.email ?? er.email,
            password: fe.password ?? er.password,
            first_name: fe.first_name ?? er.first_name,
            last_name: fe.last_name ?? er.last_name,
          }));
          const known = ["email", "password", "first_name", "last_name"];
          if (!Object.keys(fe).some((k) => known.includes(k))) setServerError(err.message);
          else focusFirstInvalid();
        } else {
          setServerError(err.message);
        }
      } else {
        setServerError("Something went wrong. Please try again.");
      }
    }
  };

  return (
    <div className="container page auth-page">
      <div className="auth-card">
        <h1>Create your account</h1>
        <p className="muted">It takes a minute. Your analyses stay private to you.</p>
        {serverError && (
          <Alert tone="error" testId="form-error">
            {serverError}
          </Alert>
        )}
        <form onSubmit={onSubmit} noValidate aria-busy={busy}>
          <div className="field-row">
            <Field label="First name" name="first_name" autoComplete="given-name" value={form.first_name} onChange={set("first_name")} error={errors.first_name} required />
            <Field label="Last name" name="last_name" autoComplete="family-name" value={form.last_name} onChange={set("last_name")} error={errors.last_name} required />
          </div>
          <Field label="E-mail" name="email" type="email" autoComplete="email" inputMode="email" value={form.email} onChange={set("email")} error={errors.email} required />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            hint={`At least ${PASSWORD_MIN} characters. A short sentence is easy to remember and hard to guess.`}
            value={form.password}
            onChange={set("password")}
            error={errors.password}
            required
          />
          <Field label="Confirm password" name="confirm" type="password" autoComplete="new-password" value={form.confirm} onChange={set("confirm")} error={errors.confirm} required />
          <div className={`field field--check${acceptError ? " field--error" : ""}`}>
            <label className="check">
              <input
                type="checkbox"
                name="understand"
                checked={accepted}
                aria-invalid={acceptError ? true : undefined}
                aria-describedby={acceptError ? "accept-error" : undefined}
                onChange={(e) => {
                  setAccepted(e.target.checked);
                  if (e.target.checked) setAcceptError(null);
                }}
              />
              <span>I understand Bloomwell describes facial expressions and is not a medical diagnosis.</span>
            </label>
            {acceptError && (
              <p id="accept-error" className="field__error">
                {acceptError}
              </p>
            )}
          </div>
          <button type="submit" className="btn btn--primary btn--block" disabled={busy}>
            {busy ? "Creating your account…" : "Create account"}
          </button>
        </form>
        <p className="auth-card__foot">
          Already have an account? <Link to="/login">Log in</Link>
        </p>
      </div>
    </div>
  );
}
