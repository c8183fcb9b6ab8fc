import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { tokens } from "../api/tokens";
import { analysis } from "../test/fixtures";
import { mockFetch, renderWithRouter, tokenPair } from "../test/helpers";
import { RequireAuth } from "../components/RequireAuth";
import { Account } from "./Account";
import { History } from "./History";

const ME = { id: "u", email: "ada@example.org", first_name: "Ada", last_name: "Lovelace", created_at: "2026-01-01T00:00:00Z" };

describe("History", () => {
  beforeEach(() => tokens.set(tokenPair(1)));

  it("shows an empty state", async () => {
    mockFetch([
      { path: "/auth/me", body: ME },
      { path: "/v1/analyses?", body: { items: [], next_cursor: null } },
    ]);
    renderWithRouter(<History />);
    expect(await screen.findByTestId("history-empty")).toHaveTextContent("No analyses yet");
  });

  it("lists analyses newest first with status and emotion, pages with the cursor, and deletes one", async () => {
    const calls = mockFetch([
      { path: "/auth/me", body: ME },
      { path: "/v1/analyses?limit=20&cursor=c2", body: { items: [analysis({ id: "old", created_at: "2026-11-01T09:00:00Z", status: "failed", dominant_emotion: null })], next_cursor: null } },
      {
        path: "/v1/analyses?limit=20",
        body: {
          items: [analysis({ id: "new", created_at: "2026-11-24T10:00:00Z" }), analysis({ id: "mid", created_at: "2026-11-20T10:00:00Z", status: "processing", dominant_emotion: null })],
          next_cursor: "c2",
        },
      },
      { method: "DELETE", path: "/v1/analyses/new", status: 204 },
    ]);
    const user = userEvent.setup();
    renderWithRouter(<History />);
    const items = await screen.findAllByTestId("history-item");
    expect(items.map((i) => i.dataset.id)).toEqual(["new", "mid"]);
    expect(within(items[0]).getByText("Ready")).toBeInTheDocument();
    expect(within(items[0]).getByText("Happy")).toBeInTheDocument();
    expect(within(items[1]).getByText("Analysing")).toBeInTheDocument();
    expect(within(items[0]).getByRole("link", { name: /Open analysis/ })).toHaveAttribute("href", "/analyses/new");

    await user.click(screen.getByRole("button", { name: "Show older analyses" }));
    await screen.findByText("Failed");
    expect(screen.getAllByTestId("history-item").map((i) => i.dataset.id)).toEqual(["new", "mid", "old"]);
    expect(screen.queryByRole("button", { name: "Show older analyses" })).not.toBeInTheDocument();
    expect(calls.some((c) => c.url === "/v1/analyses?limit=20&cursor=c2")).toBe(true);

    await user.click(within(screen.getAllByTestId("history-item")[0]).getByRole("button", { name: /Delete analysis/ }));
    await user.click(screen.getByRole("button", { name: "Delete analysis" }));
    expect(await screen.findByTestId("history-notice")).toHaveTextContent("deleted");
    expect(screen.getAllByTestId("history-item").map((i) => i.dataset.id)).toEqual(["mid", "old"]);
    // focus lands on the row that took the deleted one's place, not back at the top of the page
    await waitFor(() => expect(within(screen.getAllByTestId("history-item")[0]).getByRole("link", { name: /^Nov 20/ })).toHaveFocus(), { timeout: 10_000 });
  });

  it("shows each finished item's face and the trend from the list alone (no result requests)", async () => {
    const calls = mockFetch([
      { path: "/auth/me", body: ME },
      { path: "/v1/analyses/a/crops/1_3.jpg", body: new Blob(["jpeg"], { type: "image/jpeg" }) },
      {
        path: "/v1/analyses?limit=20",
        body: {
          items: [
            analysis({ id: "a", created_at: "2026-11-24T10:00:00Z", thumbnail_url: "/v1/analyses/a/crops/1_3.jpg", negative_share: 0.25 }),
            analysis({ id: "b", created_at: "2026-11-20T10:00:00Z", dominant_emotion: "sad", negative_share: 0.6 }),
          ],
          next_cursor: null,
        },
      },
    ]);
    renderWithRouter(<History />);
    const items = await screen.findAllByTestId("history-item");
    expect(await within(items[0]).findByTestId("history-thumb")).toHaveAttribute("src", expect.stringMatching(/^blob:/));
    expect(within(items[1]).getByTestId("history-thumb-blank")).toBeInTheDocument();
    const values = within(screen.getByTestId("history-trend")).getAllByTestId("trend-point").map((p) => p.textContent);
    expect(values.join(" ")).toMatch(/60\s?%.*25\s?%/);
    expect(calls.some((c) => c.url.includes("/result"))).toBe(false);
  });
});

describe("Account", () => {
  beforeEach(() => tokens.set(tokenPair(1)));

  it("deletes the account only after typing the confirmation word", async () => {
    const calls = mockFetch([
      { path: "/auth/me", body: ME },
      { method: "DELETE", path: "/auth/me", status: 204 },
    ]);
    const user = userEvent.setup();
    const elsewhere = [
      { path: "/", element: <p>home page</p> },
      { path: "/login", element: <p>login page</p> },
    ];
    renderWithRouter(
      <RequireAuth>
        <Account />
      </RequireAuth>,
      { extraRoutes: elsewhere, path: "/account", route: "/account" },
    );
    expect(await screen.findByText("ada@example.org")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Delete my account…" }));
    const confirm = screen.getByRole("button", { name: "Delete everything" });
    expect(confirm).toBeDisabled();
    await user.type(screen.getByLabelText("Type DELETE to confirm"), "DELETE");
    expect(confirm).toBeEnabled();
    await user.click(confirm);
    await vi_wait(() => calls.some((c) => c.method === "DELETE" && c.url === "/auth/me"));
    expect(await screen.findByText("home page")).toBeInTheDocument();
    expect(screen.queryByText("login page")).not.toBeInTheDocument();
    expect(tokens.hasSession()).toBe(false);
  });

  it("logs out to the home page, not the login form", async () => {
    mockFetch([
      { path: "/auth/me", body: ME },
      { method: "POST", path: "/auth/logout", status: 204 },
    ]);
    const user = userEvent.setup();
    renderWithRouter(
      <RequireAuth>
        <Account />
      </RequireAuth>,
      { extraRoutes: [{ path: "/", element: <p>home page</p> }, { path: "/login", element: <p>login page</p> }], path: "/account", route: "/account" },
    );
    await user.click(await screen.findByRole("button", { name: "Log out" }));
    expect(await screen.findByText("home page")).toBeInTheDocument();
    await vi_wait(() => !tokens.hasSession());
  });
});

async function vi_wait(cond: () => boolean) {
  const { vi } = await import("vitest");
  await vi.waitFor(() => expect(cond()).toBe(true));
}

describe("History refresh", () => {
  beforeEach(() => tokens.set(tokenPair(1)));

  it("updates a running analysis in place when it finishes, then shows its thumbnail", async () => {
    let lists = 0;
    const running = analysis({ id: "run", status: "processing", progress: 0.3, dominant_emotion: null });
    const done = analysis({ id: "run", status: "succeeded", dominant_emotion: "neutral" });
    mockFetch([
      { path: "/auth/me", body: ME },
      { path: "/v1/analyses/run/crops/1_0.jpg", body: new Blob(["jpeg"], { type: "image/jpeg" }) },
      {
        path: "/v1/analyses?",
        handler: () => ({
          status: 200,
          body: { items: [lists++ === 0 ? running : { ...done, thumbnail_url: "/v1/analyses/run/crops/1_0.jpg", negative_share: 0.1 }], next_cursor: null },
        }),
      },
      { path: "/v1/analyses/run", body: done },
    ]);
    renderWithRouter(<History />);
    const item = await screen.findByTestId("history-item");
    expect(within(item).getByText("Analysing")).toBeInTheDocument();
    expect(await within(item).findByText("Ready", {}, { timeout: 8000 })).toBeInTheDocument();
    expect(within(item).getByText("Neutral")).toBeInTheDocument();
    expect(await within(item).findByTestId("history-thumb")).toBeInTheDocument();
  }, 15_000);
});
