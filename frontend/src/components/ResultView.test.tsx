import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { tokens } from "../api/tokens";
import { MULTI_RESULT, RESULT } from "../test/fixtures";
import { CONFIG, mockFetch, renderWithRouter, tokenPair } from "../test/helpers";
import { ResultView } from "./ResultView";

const routes = () => [
  { path: "/auth/me", body: {} },
  { path: "/v1/config", body: CONFIG },
  { path: "/v1/analyses/a1/crops/", handler: () => ({ body: new Blob(["jpg"], { type: "image/jpeg" }) }) },
  { path: "/v1/analyses/a1/result.csv", handler: () => ({ body: new Blob(["t,track_id\n"], { type: "text/csv" }) }) },
];

describe("ResultView", () => {
  beforeEach(() => {
    tokens.set(tokenPair(1));
    let n = 0;
    URL.createObjectURL = vi.fn(() => `blob:crop-${n++}`);
    URL.revokeObjectURL = vi.fn();
  });

  it("starts with the summary sentence and explained figures, then the band, values on bars and details", async () => {
    mockFetch(routes());
    renderWithRouter(<ResultView analysisId="a1" result={RESULT} filename="clip.mp4" createdAt="2026-11-24T10:00:00Z" />);
    expect(screen.getByTestId("summary-text")).toHaveTextContent(/^Mostly neutral, sometimes happy and briefly sad\. No lasting negative expression\./);
    expect(screen.getByTestId("dominant-emotion")).toHaveTextContent("Neutral · 70%");
    expect(screen.queryByTestId("people-picker")).toBeNull();
    expect(screen.getByTestId("ribbon").querySelectorAll(".ribbon__band").length).toBeGreaterThan(3);
    expect(screen.getAllByTestId("bar-value")[4]).toHaveTextContent("70%");
    expect(within(screen.getByTestId("report-details")).getByTestId("model-info")).toHaveTextContent("bloomwell-convnext 1.2.0");
    expect(within(screen.getByTestId("observations")).getAllByRole("listitem")).toHaveLength(4);
    expect(screen.getAllByTestId("disclaimer")[0]).toHaveTextContent(/not a diagnosis/);
    await userEvent.setup().click(screen.getByRole("button", { name: "Show the seven probability lines" }));
    expect(screen.getByRole("button", { name: "Hide the seven probability lines" })).toHaveAttribute("aria-expanded", "true");
  });

  it("lets the user pick a person when several were read; the summary follows", async () => {
    mockFetch(routes());
    const user = userEvent.setup();
    renderWithRouter(<ResultView analysisId="a1" result={MULTI_RESULT} />);
    const options = within(screen.getByTestId("people-picker")).getAllByTestId("person-option");
    expect(options.map((o) => o.textContent?.slice(0, 8))).toEqual(["Person 1", "Person 2"]);
    expect(options[0]).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByTestId("people-picker")).toHaveTextContent("One more face was too brief or unclear to read.");
    await user.click(options[1]);
    expect(screen.getByTestId("summary-text")).toHaveTextContent(/^Mostly surprised\. No negative expression\./);
  });

  it("numbers people by appearance and opens on the one read longest, even when they appear later", () => {
    mockFetch(routes());
    renderWithRouter(<ResultView analysisId="a1" result={{ ...MULTI_RESULT, primary_track_id: 2 }} />);
    const picker = screen.getByTestId("people-picker");
    const options = within(picker).getAllByTestId("person-option");
    expect(options.map((o) => o.getAttribute("data-track"))).toEqual(["1", "2"]);
    expect(options[1]).toHaveAttribute("aria-pressed", "true");
    expect(picker).toHaveTextContent("Person 2 was read the longest.");
  });

  it("pictures only readable faces: no expression on an unread one, and the picker and the face section agree", async () => {
    mockFetch(routes());
    renderWithRouter(<ResultView analysisId="a1" result={RESULT} />);
    await waitFor(() => expect(within(screen.getByTestId("face-crops")).getAllByRole("img", { name: /^Face at/ })).toHaveLength(2), { timeout: 10_000 });
    const crops = within(screen.getByTestId("face-crops")).getAllByRole("img");
    expect(crops.map((c) => c.getAttribute("alt"))).toEqual(["Face at 0.0 s, most likely neutral in that frame", "Face at 4.0 s, most likely happy in that frame"]);
    expect(screen.getByTestId("face-crops")).not.toHaveTextContent("Angry");
  });

  it("exports with the date and file name in the name", async () => {
    mockFetch(routes());
    const clicks: string[] = [];
    const orig = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function () {
      clicks.push(this.download);
    };
    try {
      const user = userEvent.setup();
      renderWithRouter(<ResultView analysisId="a1" result={RESULT} filename="clip.mp4" createdAt="2026-11-24T10:00:00Z" />);
      await user.click(screen.getByRole("button", { name: "Download JSON" }));
      await user.click(screen.getByRole("button", { name: "Download CSV" }));
      await waitFor(() => expect(clicks).toEqual(["bloomwell-2026-11-24-clip.json", "bloomwell-2026-11-24-clip.csv"]));
    } finally {
      HTMLAnchorElement.prototype.click = orig;
    }
  });
});
