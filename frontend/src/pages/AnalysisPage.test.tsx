import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api/tokens";
import type { ErrorCode } from "../api/types";
import { FAILURES } from "../lib/failures";
import { RESULT, analysis } from "../test/fixtures";
import { mockFetch, renderWithRouter, tokenPair } from "../test/helpers";
import { AnalysisPage } from "./AnalysisPage";

describe("AnalysisPage", () => {
  beforeEach(() => {
    tokens.set(tokenPair(1));
    vi.stubGlobal("EventSource", undefined); // exercise the polling path
    URL.createObjectURL = vi.fn(() => "blob:x");
    URL.revokeObjectURL = vi.fn();
  });

  it("shows live progress, then the report when the analysis succeeds", async () => {
    let polls = 0;
    mockFetch([
      { path: "/auth/me", body: { id: "u", email: "a@b.co", first_name: "A", last_name: "B", created_at: "2026-01-01T00:00:00Z" } },
      { path: "/v1/analyses/a1/result", body: RESULT },
      { path: "/v1/analyses/a1/crops/", handler: () => ({ body: new Blob(["x"]) }) },
      {
        path: "/v1/analyses/a1",
        handler: () => {
          polls += 1;
          if (polls === 1) return { body: analysis({ status: "queued", progress: 0, dominant_emotion: null }) };
          if (polls === 2) return { body: analysis({ status: "processing", progress: 0.42, stage: "analyzing", dominant_emotion: null }) };
          return { body: analysis() };
        },
      },
    ]);
    renderWithRouter(<AnalysisPage />, { path: "/analyses/:id", route: "/analyses/a1" });
    expect(await screen.findByTestId("status-panel")).toBeInTheDocument();
    expect(await screen.findByRole("heading", { name: "Your expression report" }, { timeout: 8000 })).toBeInTheDocument();
    expect(await screen.findByTestId("result", {}, { timeout: 8000 })).toBeInTheDocument();
    expect(screen.getByTestId("dominant-emotion")).toHaveTextContent("Neutral · 70%");
  }, 15_000);

  it.each(Object.keys(FAILURES) as ErrorCode[])("explains a failure with error code %s: what happened, why, and what to do", async (code) => {
    const workerSentence = "We found a face but could not read its expression: the face was visible only for a moment.";
    mockFetch([
      { path: "/auth/me", body: {} },
      { path: "/v1/analyses/a1", body: analysis({ status: "failed", error: workerSentence, error_code: code, dominant_emotion: null }) },
    ]);
    renderWithRouter(<AnalysisPage />, { path: "/analyses/:id", route: "/analyses/a1" });
    const failure = await screen.findByTestId("failure", {}, { timeout: 8000 });
    const text = FAILURES[code];
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent(text.title);
    expect(text.title).not.toMatch(/didn't finish/);
    // the worker's sentence names the specific reason for an unreadable face; elsewhere it is small print
    expect(screen.getByTestId("failure-reason")).toHaveTextContent(code === "no_assessable_face" ? workerSentence : text.reason);
    expect(screen.getByTestId("failure-next")).toHaveTextContent(text.next);
    expect(within(failure).getByRole("link", { name: text.action.label })).toHaveAttribute("href", "/new");
    if (code !== "no_assessable_face") expect(failure).toHaveTextContent(`Details: ${workerSentence}`);
  });

  it("explains a failure without a known code in general words", async () => {
    mockFetch([
      { path: "/auth/me", body: {} },
      { path: "/v1/analyses/a1", body: analysis({ status: "failed", error: "The worker was lost.", error_code: "something_new" as ErrorCode, dominant_emotion: null }) },
    ]);
    renderWithRouter(<AnalysisPage />, { path: "/analyses/:id", route: "/analyses/a1" });
    await screen.findByTestId("failure", {}, { timeout: 8000 });
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("The analysis didn't finish");
    expect(screen.getByTestId("failure-reason")).toHaveTextContent("The worker was lost.");
  });

  it("says so when the analysis doesn't exist", async () => {
    mockFetch([
      { path: "/auth/me", body: {} },
      { path: "/v1/analyses/zz", status: 404, body: { detail: "Analysis not found." } },
    ]);
    renderWithRouter(<AnalysisPage />, { path: "/analyses/:id", route: "/analyses/zz" });
    expect(await screen.findByRole("heading", { name: "Analysis not found" })).toBeInTheDocument();
  });

  it("deletes after confirmation and returns to the history", async () => {
    const calls = mockFetch([
      { path: "/auth/me", body: {} },
      { path: "/v1/analyses/a1/result", body: RESULT },
      { path: "/v1/analyses/a1/crops/", handler: () => ({ body: new Blob(["x"]) }) },
      { path: "/v1/analyses/a1", body: analysis() },
      { method: "DELETE", path: "/v1/analyses/a1", status: 204 },
    ]);
    const user = userEvent.setup();
    renderWithRouter(<AnalysisPage />, { path: "/analyses/:id", route: "/analyses/a1", extraRoutes: [{ path: "/history", element: <p>history page</p> }] });
    await screen.findByTestId("result", {}, { timeout: 8000 });
    await user.click(screen.getByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("dialog", { name: "Delete this analysis?" });
    expect(dialog).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Delete" }));
    await user.click(screen.getByRole("button", { name: "Delete analysis" }));
    await waitFor(() => expect(screen.getByText("history page")).toBeInTheDocument());
    expect(calls.some((c) => c.method === "DELETE" && c.url === "/v1/analyses/a1")).toBe(true);
  });
});

describe("AnalysisPage without a face", () => {
  beforeEach(() => {
    tokens.set(tokenPair(1));
    vi.stubGlobal("EventSource", undefined);
  });

  it("says no face was found instead of showing an empty report", async () => {
    const empty = {
      ...RESULT,
      summary: { ...RESULT.summary, dominant_emotion: null, frames_with_face: 0, frames_analyzed: 15, duration_s: 3 },
      frames: RESULT.frames.map((f) => ({ ...f, faces: [] })),
    };
    mockFetch([
      { path: "/auth/me", body: {} },
      { path: "/v1/analyses/a1/result", body: empty },
      { path: "/v1/analyses/a1", body: analysis({ dominant_emotion: null }) },
    ]);
    renderWithRouter(<AnalysisPage />, { path: "/analyses/:id", route: "/analyses/a1" });
    const panel = await screen.findByTestId("no-face");
    expect(panel).toHaveTextContent(FAILURES.no_face.reason);
    expect(panel).toHaveTextContent("We looked at 15 frames from 3.0 seconds of video.");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("We couldn't find a face in this video");
    expect(screen.queryByTestId("result")).not.toBeInTheDocument();
  });
});
