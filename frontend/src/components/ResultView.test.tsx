import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api/tokens";
import { RESULT } from "../test/fixtures";
import { mockFetch, renderWithRouter, tokenPair } from "../test/helpers";
import { ResultView } from "./ResultView";

describe("ResultView", () => {
  beforeEach(() => {
    tokens.set(tokenPair(1));
    let n = 0;
    URL.createObjectURL = vi.fn(() => `blob:crop-${n++}`);
    URL.revokeObjectURL = vi.fn();
  });

  it("shows the summary, charts, observations with the disclaimer, and authorised face crops", async () => {
    const calls = mockFetch([{ path: "/auth/me", body: {} }, { path: "/v1/analyses/a1/crops/", handler: () => ({ body: new Blob(["jpg"], { type: "image/jpeg" }) }) }]);
    renderWithRouter(<ResultView analysisId="a1" result={RESULT} />);
    expect(screen.getByTestId("dominant-emotion")).toHaveTextContent("Happy");
    expect(screen.getByText("in 60% of the moments with a face")).toBeInTheDocument();
    expect(screen.getByTestId("frames-analyzed")).toHaveTextContent("4");
    expect(screen.getByText("3 with a face (75%)")).toBeInTheDocument();
    expect(screen.getByTestId("model-info")).toHaveTextContent("bloomwell-convnext");
    expect(screen.getByText("version 1.2.0")).toBeInTheDocument();
    expect(screen.getByTestId("timeline-chart")).toBeInTheDocument();
    expect(screen.getByTestId("distribution-chart")).toBeInTheDocument();
    // Series toggles list the seven labels in the model's order.
    const toggles = within(screen.getByTestId("timeline-chart")).getAllByRole("checkbox");
    expect(toggles.map((t) => t.parentElement?.textContent)).toEqual(["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]);
    await waitFor(() => expect(screen.getByTestId("timeline-chart").querySelectorAll(".recharts-line")).toHaveLength(7));
    expect(screen.getByTestId("distribution-chart").querySelectorAll(".recharts-bar-rectangle").length).toBeGreaterThan(0);
    await userEvent.setup().click(within(screen.getByTestId("timeline-chart")).getByLabelText("Neutral"));
    await waitFor(() => expect(screen.getByTestId("timeline-chart").querySelectorAll(".recharts-line")).toHaveLength(6));
    const obs = screen.getByTestId("observations");
    expect(within(obs).getAllByRole("listitem")).toHaveLength(5);
    expect(screen.getAllByTestId("disclaimer")[0]).toHaveTextContent(/not a diagnosis/);

    await waitFor(() => expect(screen.getAllByRole("img", { name: /^Face at/ })).toHaveLength(2));
    const cropCalls = calls.filter((c) => c.url.includes("/crops/"));
    expect(cropCalls.map((c) => c.url).sort()).toEqual(["/v1/analyses/a1/crops/0_0.jpg", "/v1/analyses/a1/crops/1_0.jpg"]);
    for (const c of cropCalls) expect(c.headers.get("Authorization")).toBe("Bearer access-1");
    expect(screen.getByRole("img", { name: "Face at 0.0 s, most likely happy" })).toHaveAttribute("src", expect.stringMatching(/^blob:crop-/));
  });

  it("exports JSON locally and CSV from the server", async () => {
    const calls = mockFetch([
      { path: "/auth/me", body: {} },
      { path: "/v1/analyses/a1/crops/", handler: () => ({ body: new Blob(["jpg"]) }) },
      { path: "/v1/analyses/a1/result.csv", handler: () => ({ body: new Blob(["t,face\n"], { type: "text/csv" }) }) },
    ]);
    const clicks: string[] = [];
    const orig = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function () {
      clicks.push(this.download);
    };
    try {
      const user = userEvent.setup();
      renderWithRouter(<ResultView analysisId="a1" result={RESULT} />);
      await user.click(screen.getByRole("button", { name: "Download JSON" }));
      await user.click(screen.getByRole("button", { name: "Download CSV" }));
      await waitFor(() => expect(clicks).toEqual(["bloomwell-a1.json", "bloomwell-a1.csv"]));
      expect(calls.some((c) => c.url === "/v1/analyses/a1/result.csv")).toBe(true);
    } finally {
      HTMLAnchorElement.prototype.click = orig;
    }
  });
});
