import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { tokens } from "../api/tokens";
import { mockFetch, renderWithRouter, tokenPair } from "../test/helpers";
import { Login } from "./Login";
import { Signup } from "./Signup";

const USER = { id: "u1", email: "ada@example.org", first_name: "Ada", last_name: "L", created_at: "2026-01-01T00:00:00Z" };

async function fillSignup(user: ReturnType<typeof userEvent.setup>, over: Partial<Record<string, string>> = {}) {
  const v = { first: "Ada", last: "Lovelace", email: "ada@example.org", pw: "correct horse", confirm: "correct horse", ...over };
  if (v.first) await user.type(screen.getByLabelText("First name"), v.first);
  if (v.last) await user.type(screen.getByLabelText("Last name"), v.last);
  if (v.email) await user.type(screen.getByLabelText("E-mail"), v.email);
  if (v.pw) await user.type(screen.getByLabelText("Password"), v.pw);
  if (v.confirm) await user.type(screen.getByLabelText("Confirm password"), v.confirm);
}

describe("Sign up", () => {
  it("validates on the client without calling the server", async () => {
    const calls = mockFetch([]);
    const user = userEvent.setup();
    renderWithRouter(<Signup />, { path: "/signup", route: "/signup" });
    await fillSignup(user, { email: "nope", pw: "short", confirm: "different" });
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(screen.getByText(/valid e-mail address/)).toBeInTheDocument();
    expect(screen.getByText(/at least 8 characters/)).toBeInTheDocument();
    expect(screen.getByText("The passwords do not match.")).toBeInTheDocument();
    expect(screen.getByText(/not a diagnosis/)).toBeInTheDocument();
    expect(screen.getByLabelText("E-mail")).toHaveAttribute("aria-invalid", "true");
    expect(calls).toHaveLength(0);
  });

  it("shows a duplicate e-mail inline next to the field", async () => {
    mockFetch([{ method: "POST", path: "/auth/signup", status: 409, body: { detail: "An account with this e-mail already exists." } }]);
    const user = userEvent.setup();
    renderWithRouter(<Signup />, { path: "/signup", route: "/signup" });
    await fillSignup(user);
    await user.click(screen.getByRole("checkbox"));
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText(/already exists\. Try logging in/)).toBeInTheDocument();
    expect(screen.getByLabelText("E-mail")).toHaveAttribute("aria-invalid", "true");
  });

  it("maps server validation errors to fields", async () => {
    mockFetch([
      {
        method: "POST",
        path: "/auth/signup",
        status: 422,
        body: { detail: [{ loc: ["body", "password"], msg: "Password must be at least 8 characters long.", type: "password_too_short" }] },
      },
    ]);
    const user = userEvent.setup();
    renderWithRouter(<Signup />, { path: "/signup", route: "/signup" });
    await fillSignup(user);
    await user.click(screen.getByRole("checkbox"));
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText("Password must be at least 8 characters long.")).toBeInTheDocument();
  });

  it("creates the account, logs in and goes to a new analysis", async () => {
    const calls = mockFetch([
      { method: "POST", path: "/auth/signup", status: 201, body: USER },
      { method: "POST", path: "/auth/login", body: tokenPair(1) },
      { path: "/auth/me", body: USER },
    ]);
    const user = userEvent.setup();
    renderWithRouter(<Signup />, { path: "/signup", route: "/signup", extraRoutes: [{ path: "/new", element: <p>new analysis page</p> }] });
    await fillSignup(user);
    await user.click(screen.getByRole("checkbox"));
    await user.click(screen.getByRole("button", { name: "Create account" }));
    expect(await screen.findByText("new analysis page")).toBeInTheDocument();
    expect(calls[0].body).toEqual({ email: "ada@example.org", password: "correct horse", first_name: "Ada", last_name: "Lovelace" });
    expect(tokens.getAccess()).toBe("access-1");
    expect(sessionStorage.getItem("bloomwell.refresh")).toBe("refresh-1-xxxxxxxx");
    // The access token never touches storage.
    expect(JSON.stringify({ ...sessionStorage })).not.toContain("access-1");
    expect(JSON.stringify({ ...localStorage })).not.toContain("access-1");
  });
});

describe("Log in", () => {
  it("shows wrong credentials inline and clears the password", async () => {
    mockFetch([{ method: "POST", path: "/auth/login", status: 401, body: { detail: "Incorrect e-mail or password." } }]);
    const user = userEvent.setup();
    renderWithRouter(<Login />, { path: "/login", route: "/login" });
    await user.type(screen.getByLabelText("E-mail"), "ada@example.org");
    await user.type(screen.getByLabelText("Password"), "wrong password");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(/don't match an account/);
    expect(screen.getByLabelText("Password")).toHaveValue("");
  });

  it("shows a loading state while signing in", async () => {
    let release: () => void = () => undefined;
    mockFetch([
      { method: "POST", path: "/auth/login", handler: () => new Promise((r) => (release = () => r({ body: tokenPair(1) }))) },
      { path: "/auth/me", body: USER },
    ]);
    const user = userEvent.setup();
    renderWithRouter(<Login />, { path: "/login", route: "/login", extraRoutes: [{ path: "/history", element: <p>history page</p> }] });
    await user.type(screen.getByLabelText("E-mail"), "ada@example.org");
    await user.type(screen.getByLabelText("Password"), "correct horse");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(screen.getByRole("button", { name: "Logging in…" })).toBeDisabled();
    release();
    await waitFor(() => expect(screen.getByText("history page")).toBeInTheDocument());
  });

  it("requires both fields", async () => {
    const calls = mockFetch([]);
    const user = userEvent.setup();
    renderWithRouter(<Login />, { path: "/login", route: "/login" });
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(screen.getByText("Enter your e-mail address.")).toBeInTheDocument();
    expect(screen.getByText("Enter your password.")).toBeInTheDocument();
    expect(calls).toHaveLength(0);
  });
});
