/// <reference types="node" />
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, STAGES } from "./contract";

/** The members of a `StrEnum` in services/common/analysis.py (Vitest runs in frontend/). */
function pythonEnum(name: string): string[] {
  const source = readFileSync(resolve(process.cwd(), "../services/common/analysis.py"), "utf8");
  const body = source.split(new RegExp(`^class ${name}\\(StrEnum\\):`, "m"))[1]?.split(/^\S/m)[0] ?? "";
  return [...body.matchAll(/^ {4}\w+ = "(\w+)"$/gm)].map((m) => m[1]);
}

describe("the web app's copy of the analysis contract", () => {
  it("has every stage the worker sends, and no other", () => {
    expect(pythonEnum("Stage")).toEqual([...STAGES]);
  });

  it("has every error code the worker sends (invalid_result is being added to the contract)", () => {
    const python = pythonEnum("ErrorCode");
    expect(python.length).toBeGreaterThanOrEqual(6);
    expect(ERROR_CODES).toEqual(expect.arrayContaining(python));
    expect(ERROR_CODES.filter((c) => !python.includes(c))).toEqual(python.includes("invalid_result") ? [] : ["invalid_result"]);
  });
});
