import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Recorder, lightHint } from "./Recorder";

class FakeRecorder {
  static isTypeSupported = (t: string) => t.startsWith("video/webm");
  static last: FakeRecorder | null = null;
  state: "inactive" | "recording" = "inactive";
  mimeType: string;
  ondataavailable: ((e: { data: Blob }) => void) | null = null;
  onstop: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(_stream: unknown, opts: { mimeType?: string } = {}) {
    this.mimeType = opts.mimeType ?? "video/webm";
    FakeRecorder.last = this;
  }
  start() {
    this.state = "recording";
  }
  stop() {
    this.state = "inactive";
    this.ondataavailable?.({ data: new Blob(["frames"], { type: "video/webm" }) });
    this.onstop?.();
  }
}

const track = { stop: vi.fn() };
const stream = { getTracks: () => [track] };

describe("Recorder", () => {
  beforeEach(() => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.stubGlobal("MediaRecorder", FakeRecorder);
    URL.createObjectURL = vi.fn(() => "blob:recording");
    URL.revokeObjectURL = vi.fn();
    track.stop.mockClear();
  });
  afterEach(() => {
    Object.defineProperty(navigator, "mediaDevices", { value: undefined, configurable: true });
  });

  function withCamera(getUserMedia: () => Promise<unknown>) {
    Object.defineProperty(navigator, "mediaDevices", { value: { getUserMedia: vi.fn(getUserMedia) }, configurable: true });
  }

  it("explains a blocked camera and offers to try again", async () => {
    withCamera(() => Promise.reject(Object.assign(new Error("denied"), { name: "NotAllowedError" })));
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    render(<Recorder minSeconds={5} maxSeconds={30} maxBytes={1e8} onSubmit={vi.fn()} />);
    await user.click(screen.getByRole("button", { name: "Turn on camera" }));
    expect(await screen.findByTestId("camera-error")).toHaveTextContent(/Camera access was blocked/);
    expect(screen.getByRole("button", { name: "Try the camera again" })).toBeEnabled();
  });

  it("records with a timer, enforces the minimum, plays back, and sends only on request", async () => {
    withCamera(() => Promise.resolve(stream));
    const onSubmit = vi.fn();
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    render(<Recorder minSeconds={5} maxSeconds={30} maxBytes={1e8} onSubmit={onSubmit} />);
    await user.click(screen.getByRole("button", { name: "Turn on camera" }));
    expect(await screen.findByTestId("live-preview")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: /Start recording/ }));
    expect(screen.getByTestId("record-timer")).toHaveTextContent("0:00 / 0:30");

    await act(async () => {
      vi.advanceTimersByTime(2000);
    });
    expect(screen.getByTestId("record-timer")).toHaveTextContent("0:02");
    expect(screen.getByRole("button", { name: /Keep going/ })).toBeDisabled();

    await act(async () => {
      vi.advanceTimersByTime(3200);
    });
    const stop = screen.getByRole("button", { name: "Stop recording" });
    expect(stop).toBeEnabled();
    await user.click(stop);

    expect(await screen.findByTestId("playback")).toHaveAttribute("src", "blob:recording");
    expect(track.stop).toHaveBeenCalled(); // camera released after recording
    expect(onSubmit).not.toHaveBeenCalled();
    await user.click(screen.getByRole("button", { name: "Analyse this recording" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const [blob, name] = onSubmit.mock.calls[0];
    expect(blob).toBeInstanceOf(Blob);
    expect(name).toMatch(/^recording-.*\.webm$/);
  });

  it("stops by itself at the maximum length and allows a retake", async () => {
    withCamera(() => Promise.resolve(stream));
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    render(<Recorder minSeconds={5} maxSeconds={30} maxBytes={1e8} onSubmit={vi.fn()} />);
    await user.click(screen.getByRole("button", { name: "Turn on camera" }));
    await user.click(await screen.findByRole("button", { name: /Start recording/ }));
    await act(async () => {
      vi.advanceTimersByTime(30_500);
    });
    expect(await screen.findByTestId("playback")).toBeInTheDocument();
    expect(screen.getByTestId("recording-summary")).toHaveTextContent(/Recording ready — 0:30 long/);
    await user.click(screen.getByRole("button", { name: "Retake" }));
    expect(await screen.findByRole("button", { name: /Start recording/ })).toBeInTheDocument();
  });

  it("counts down 3-2-1 when asked and moves focus to the recorder's heading after each click", async () => {
    withCamera(() => Promise.resolve(stream));
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    render(<Recorder minSeconds={5} maxSeconds={30} maxBytes={1e8} onSubmit={vi.fn()} />);
    expect(screen.getByTestId("recorder-title")).not.toHaveFocus(); // nothing moves on first render
    await user.click(screen.getByRole("button", { name: "Turn on camera" }));
    // focus moves in an effect after the new heading renders: wait for it (the machine may be loaded)
    const on = await screen.findByRole("heading", { name: "Camera is on" }, { timeout: 8000 });
    await waitFor(() => expect(on).toHaveFocus(), { timeout: 8000 });
    await user.click(screen.getByRole("checkbox", { name: /Count down 3, 2, 1/ }));
    await user.click(screen.getByRole("button", { name: /Start recording/ }));
    expect(screen.getByRole("heading", { name: "Get ready" })).toHaveFocus();
    expect(screen.getByTestId("countdown")).toHaveTextContent("3");
    await act(async () => {
      vi.advanceTimersByTime(1000);
    });
    expect(screen.getByTestId("countdown")).toHaveTextContent("2");
    expect(FakeRecorder.last?.state ?? "inactive").toBe("inactive");
    await act(async () => {
      vi.advanceTimersByTime(2100);
    });
    expect(screen.getByRole("heading", { name: "Recording" })).toHaveFocus();
    expect(FakeRecorder.last?.state).toBe("recording");
    await act(async () => {
      vi.advanceTimersByTime(5200);
    });
    await user.click(screen.getByRole("button", { name: "Stop recording" }));
    const done = await screen.findByRole("heading", { name: "Your recording" });
    await waitFor(() => expect(done).toHaveFocus());
    expect(screen.getByTestId("playback")).toHaveClass("video-frame__video--mirror");
    expect(screen.getByRole("slider", { name: "Position in the recording" })).toBeInTheDocument();
  });

  it("words the light check plainly", () => {
    expect(lightHint(null)).toBeNull();
    expect(lightHint(20)).toMatchObject({ ok: false, text: expect.stringMatching(/dark/) });
    expect(lightHint(240)).toMatchObject({ ok: false, text: expect.stringMatching(/bright/) });
    expect(lightHint(120)).toMatchObject({ ok: true });
  });
});
