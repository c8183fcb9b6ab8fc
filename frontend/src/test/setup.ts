import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach, vi } from "vitest";
import { resetConfigCache } from "../api/analyses";
import { tokens } from "../api/tokens";

afterEach(() => {
  cleanup();
  tokens.clear();
  sessionStorage.clear();
  resetConfigCache();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

// jsdom has no layout: report a fixed size so charts render (and don't warn about 0×0).
class FixedSizeResizeObserver {
  private cb: ResizeObserverCallback;
  constructor(cb: ResizeObserverCallback) {
    this.cb = cb;
  }
  observe(target: Element) {
    const contentRect = { width: 640, height: 300, top: 0, left: 0, bottom: 300, right: 640, x: 0, y: 0 };
    this.cb([{ target, contentRect } as unknown as ResizeObserverEntry], this as unknown as ResizeObserver);
  }
  unobserve() {}
  disconnect() {}
}
(globalThis as { ResizeObserver?: unknown }).ResizeObserver = FixedSizeResizeObserver;
