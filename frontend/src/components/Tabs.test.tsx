import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { Tabs } from "./Tabs";

const TABS = [
  { id: "a", label: "First" },
  { id: "b", label: "Second" },
  { id: "c", label: "Third" },
] as const;

function Harness() {
  const [tab, setTab] = useState<"a" | "b" | "c">("a");
  return (
    <Tabs label="Pick one" tabs={TABS} selected={tab} onSelect={setTab} idPrefix="t">
      <p>Panel {tab}</p>
    </Tabs>
  );
}

describe("Tabs", () => {
  it("has one tab stop and moves (and selects) with the arrow keys, Home and End", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const [first, second, third] = screen.getAllByRole("tab");
    expect(screen.getByRole("tablist", { name: "Pick one" })).toBeInTheDocument();
    expect(first).toHaveAttribute("aria-selected", "true");
    expect(second).toHaveAttribute("tabindex", "-1");
    await user.tab();
    expect(first).toHaveFocus();
    await user.keyboard("{ArrowRight}");
    expect(second).toHaveFocus();
    expect(second).toHaveAttribute("aria-selected", "true");
    expect(screen.getByRole("tabpanel")).toHaveTextContent("Panel b");
    expect(screen.getByRole("tabpanel")).toHaveAttribute("aria-labelledby", "t-tab-b");
    await user.keyboard("{End}");
    expect(third).toHaveFocus();
    await user.keyboard("{ArrowRight}");
    expect(first).toHaveFocus();
    await user.keyboard("{ArrowLeft}");
    expect(third).toHaveFocus();
    await user.keyboard("{Home}");
    expect(first).toHaveFocus();
    expect(screen.getByRole("tabpanel")).toHaveTextContent("Panel a");
  });
});
