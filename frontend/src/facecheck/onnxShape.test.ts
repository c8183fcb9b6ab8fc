/// <reference types="node" />
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { declaredShapes, fields, valueInfoCount, withFreeShapes } from "./onnxShape";

// Vitest runs in frontend/; the model lives in the repository's models/ folder
const MODEL = resolve(process.cwd(), "../models/face_detector/face_detection_yunet_2023mar.onnx");
const SHA256 = "8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"; // bloomwell_ml.faces.YUNET_SHA256

/** Every length-delimited field of the graph except inputs, outputs and value_info: nodes, weights, names. */
function graphBody(model: Uint8Array): string[] {
  const graph = fields(model).find((f) => f.number === 7)!;
  return fields(model, graph.start, graph.end)
    .filter((f) => ![11, 12, 13].includes(f.number))
    .map((f) => createHash("sha256").update(model.subarray(f.tagStart, f.end)).digest("hex"));
}

describe("running the worker's YuNet file at any input size", () => {
  const model = new Uint8Array(readFileSync(MODEL));

  it("is the worker's file", () => {
    expect(createHash("sha256").update(model).digest("hex")).toBe(SHA256);
    expect(declaredShapes(model)).toEqual({ input: [1, 3, 640, 640] });
    expect(declaredShapes(model, 12).cls_8).toEqual([1, 6400, 1]);
    expect(valueInfoCount(model)).toBeGreaterThan(0);
  });

  it("leaves out the declared shapes and nothing else", () => {
    const free = withFreeShapes(model);
    expect(declaredShapes(free)).toEqual({ input: [] });
    const outputs = declaredShapes(free, 12);
    expect(Object.keys(outputs)).toHaveLength(12);
    expect(Object.values(outputs).every((dims) => dims.length === 0)).toBe(true);
    expect(valueInfoCount(free)).toBe(0);
    expect(graphBody(free)).toEqual(graphBody(model)); // nodes and weights byte for byte
    // fields outside the graph (ir_version, opset, producer) unchanged and in order
    const outside = (m: Uint8Array) => fields(m).filter((f) => f.number !== 7).map((f) => [...m.subarray(f.tagStart, f.end)].join(","));
    expect(outside(free)).toEqual(outside(model));
    expect(model.length).toBe(232_589); // the original bytes were not touched
  });

  it("refuses what is not an ONNX model", () => {
    expect(() => withFreeShapes(new Uint8Array([0x08, 0x07]))).toThrow(/no graph/);
    expect(() => withFreeShapes(new Uint8Array([0x3a, 0x10, 0x01]))).toThrow(/not an ONNX file/);
  });
});
