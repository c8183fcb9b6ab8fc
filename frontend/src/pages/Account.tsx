import { useState } from "react";
import { useNavigate } from "react-router-dom";
import { ApiError } from "../api/client";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { Field } from "../components/Field";
import { formatDateTime } from "../lib/format";
import { usePageTitle } from "../lib/usePageTitle";

export function Account() {
  usePageTitle("Your account");
  const { user, logout, deleteAccount } = useAuth();
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const confirmWord = "DELETE";

  const onDelete = async () => {
    setBusy(true);
    setError(null);
    try {
      await deleteAccount(() =>
        navigate("/", { replace: true, state: { flash: "Your account and all your analyses have been deleted." } }),
      );
    } catch (e) {
      setError(e instanceof ApiError ? e.message : "We couldn't delete your account. Please try again.");
      setBusy(false);
      setOpen(false);
    }
  };

  return (
    <div className="container page page--narrow">
      <h1>Your account</h1>
      {user && (
        <section className="panel" aria-labelledby="profile-title">
          <h2 id="profile-title">Profile</h2>
          <dl className="details">
            <div>
              <dt>Name</dt>
              <dd>
                {user.first_name} {user.last_name}
              </dd>
            </div>
            <div>
              <dt>E-mail</dt>
              <dd>{user.email}</dd>
            </div>
            <div>
              <dt>Member since</dt>
              <dd>{formatDateTime(user.created_at)}</dd>
            </div>
          </dl>
          <button
            type="button"
            className="btn btn--ghost"
            onClick={() => {
              // Leave the protected page first, so the sign-in guard doesn't redirect to the login form.
              navigate("/", { replace: true });
              void logout();
            }}
          >
            Log out
          </button>
        </section>
      )}

      <section className="panel panel--danger" aria-labelledby="danger-title">
        <h2 id="danger-title">Delete your account</h2>
        <p>This permanently deletes your account, every analysis and all face thumbnails. It can't be undone.</p>
        {error && <Alert tone="error">{error}</Alert>}
        <button type="button" className="btn btn--danger" onClick={() => setOpen(true)}>
          Delete my account…
        </button>
      </section>

      <ConfirmDialog
        open={open}
        title="Delete your account?"
        confirmLabel="Delete everything"
        danger
        busy={busy}
        canConfirm={typed.trim().toUpperCase() === confirmWord}
        onConfirm={onDelete}
        onCancel={() => {
          setOpen(false);
          setTyped("");
        }}
      >
        <p>All your analyses and your account will be removed for good.</p>
        <Field label={`Type ${confirmWord} to confirm`} name="confirm-delete" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} />
      </ConfirmDialog>
    </div>
  );
}
