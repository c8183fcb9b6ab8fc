import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { CONFIG } from "../test/helpers";
import { Uploader } from "./Uploader";

vi.mock("../lib/media", async (orig) => ({ ...(await orig<typeof import("../lib/media")>()), probeDuration: vi.fn(async () => 12.5) }));

function videoFile(name: string, size: number, type: string) {
  const f = new File(["x"], name, { type });
  Object.defineProperty(f, "size", { value: size });
  return f;
}

describe("Uploader", () => {
  beforeEach(async () => {
    const media = await import("../lib/media");
    vi.mocked(media.probeDuration).mockResolvedValue(12.5);
  });

  it("accepts a video picked with the file dialog and sends it on request", async () => {
    const onSubmit = vi.fn();
    const user = userEvent.setup();
    render(<Uploader config={CONFIG} onSubmit={onSubmit} />);
    const file = videoFile("fer_woman2.mp4", 2_000_000, "video/mp4");
    await user.upload(screen.getByLabelText("Choose a video file"), file);
    expect(await screen.findByText("fer_woman2.mp4")).toBeInTheDocument();
    expect(screen.getByText(/1\.9 MB · 13 s/)).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Analyse this video" }));
    expect(onSubmit).toHaveBeenCalledWith(file, "fer_woman2.mp4");
  });

  it("rejects a dropped file of the wrong type before any upload", async () => {
    const onSubmit = vi.fn();
    render(<Uploader config={CONFIG} onSubmit={onSubmit} />);
    fireEvent.drop(screen.getByTestId("dropzone"), { dataTransfer: { files: [videoFile("notes.pdf", 100, "application/pdf")] } });
    expect(await screen.findByRole("alert")).toHaveTextContent(/isn't supported/);
    expect(screen.queryByRole("button", { name: "Analyse this video" })).not.toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("rejects files over the size limit", async () => {
    render(<Uploader config={CONFIG} onSubmit={vi.fn()} />);
    fireEvent.drop(screen.getByTestId("dropzone"), { dataTransfer: { files: [videoFile("big.mp4", CONFIG.max_upload_bytes + 1, "video/mp4")] } });
    expect(await screen.findByRole("alert")).toHaveTextContent(/the limit is 50 MB/);
  });

  it("explains a clip too short to read before anything is sent (sending it is an 'anyway'), and notes a long one", async () => {
    const media = await import("../lib/media");
    vi.mocked(media.probeDuration).mockResolvedValue(0.2);
    const onSubmit = vi.fn();
    const user = userEvent.setup();
    render(<Uploader config={CONFIG} onSubmit={onSubmit} />);
    await user.upload(screen.getByLabelText("Choose a video file"), videoFile("blink.mp4", 1000, "video/mp4"));
    expect(await screen.findByTestId("duration-note", {}, { timeout: 8000 })).toHaveTextContent(/only 0\.2 s long\. We need at least 5 seconds/);
    expect(screen.queryByRole("button", { name: "Analyse this video" })).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Analyse it anyway" })).toBeInTheDocument();
    expect(onSubmit).not.toHaveBeenCalled();
    vi.mocked(media.probeDuration).mockResolvedValue(44);
    await user.upload(screen.getByLabelText("Choose a video file"), videoFile("long.mp4", 1000, "video/mp4"));
    expect(await screen.findByTestId("duration-note", {}, { timeout: 8000 })).toHaveTextContent(/longer than the 5–30 seconds we suggest/);
    await user.click(screen.getByRole("button", { name: "Analyse this video" }));
    expect(onSubmit).toHaveBeenCalledTimes(1);
  });

  it("rejects videos longer than allowed", async () => {
    const media = await import("../lib/media");
    vi.mocked(media.probeDuration).mockResolvedValue(95);
    render(<Uploader config={CONFIG} onSubmit={vi.fn()} />);
    fireEvent.drop(screen.getByTestId("dropzone"), { dataTransfer: { files: [videoFile("long.mp4", 1000, "video/mp4")] } });
    expect(await screen.findByRole("alert")).toHaveTextContent(/1 min 35 s long; the limit is 1 min\./);
  });
});
