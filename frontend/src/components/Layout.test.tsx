import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { mockFetch, renderWithRouter } from "../test/helpers";
import { Layout } from "./Layout";

describe("Layout's phone menu", () => {
  it("opens with its button and closes with Escape, focus back on the button", async () => {
    mockFetch([]);
    const user = userEvent.setup();
    renderWithRouter(<Layout />);
    const toggle = screen.getByRole("button", { name: "Open menu" });
    await user.click(toggle);
    expect(toggle).toHaveAttribute("aria-expanded", "true");
    expect(screen.getByRole("navigation", { name: "Main" })).toHaveClass("site-nav--open");
    await user.tab();
    await user.keyboard("{Escape}");
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    expect(screen.getByRole("navigation", { name: "Main" })).not.toHaveClass("site-nav--open");
    expect(toggle).toHaveFocus();
    expect(toggle).toHaveAccessibleName("Open menu");
  });
});
