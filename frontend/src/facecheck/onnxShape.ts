/**
 * The YuNet file declares a fixed 640×640 input (and the shapes that follow from it for every intermediate tensor and
 * output). OpenCV ignores them and runs the network at the frame's padded size, as the worker does; ONNX Runtime
 * refuses any other input size and fails to merge the declared shapes with the inferred ones. The network itself is
 * fully convolutional (its reshapes are `[1, -1, n]`), so the same file runs at any size once, in a copy of its bytes,
 * the declared shapes are left out: the graph's inputs and outputs lose their `shape`, and the recorded intermediate
 * shapes (`value_info`) are dropped. Weights and nodes are copied byte for byte.
 *
 * Wire format (onnx.proto): ModelProto.graph = 7; GraphProto.input = 11, output = 12, value_info = 13;
 * ValueInfoProto.type = 2; TypeProto.tensor_type = 1; TypeProto.Tensor.shape = 2.
 */

interface Field {
  number: number;
  wireType: number;
  /** Offset of the field's tag. */
  tagStart: number;
  /** Offset of the field's value (after its tag and, for length-delimited fields, after its length). */
  start: number;
  end: number;
}

const MAX_VARINT_BYTES = 10;

function readVarint(buf: Uint8Array, pos: number): { value: number; next: number } {
  let value = 0;
  let factor = 1;
  for (let i = pos; i < buf.length && i - pos < MAX_VARINT_BYTES; i++) {
    const b = buf[i];
    value += (b & 0x7f) * factor;
    if (b < 0x80) return { value, next: i + 1 };
    factor *= 128;
  }
  throw new Error("not an ONNX file: a truncated varint");
}

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** The fields of one message between `start` and `end`. */
export function fields(buf: Uint8Array, start = 0, end = buf.length): Field[] {
  const out: Field[] = [];
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const tag = readVarint(buf, pos);
    const number = Math.floor(tag.value / 8);
    const wireType = tag.value & 7;
    pos = tag.next;
    let valueStart = pos;
    if (wireType === 0) pos = readVarint(buf, pos).next;
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const len = readVarint(buf, pos);
      valueStart = len.next;
      pos = len.next + len.value;
    } else throw new Error(`not an ONNX file: wire type ${wireType}`);
    if (pos > end) throw new Error("not an ONNX file: a field runs past its message");
    out.push({ number, wireType, tagStart, start: valueStart, end: pos });
  }
  return out;
}

/** What to do with one field of a message: keep it as is, drop it, or replace its (length-delimited) content. */
type Edit = "keep" | "drop" | ((content: Uint8Array) => Uint8Array);

function rewrite(buf: Uint8Array, edit: (f: Field) => Edit): Uint8Array {
  const parts: (Uint8Array | number[])[] = [];
  let size = 0;
  for (const f of fields(buf)) {
    const action = f.wireType === 2 ? edit(f) : "keep";
    if (action === "drop") continue;
    const part =
      action === "keep"
        ? buf.subarray(f.tagStart, f.end)
        : (() => {
            const content = action(buf.subarray(f.start, f.end));
            const head = [...varint(f.number * 8 + 2), ...varint(content.length)];
            const whole = new Uint8Array(head.length + content.length);
            whole.set(head);
            whole.set(content, head.length);
            return whole;
          })();
    parts.push(part);
    size += part.length;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const withoutShape = (valueInfo: Uint8Array) =>
  rewrite(valueInfo, (f) =>
    f.number === 2 ? (type) => rewrite(type, (t) => (t.number === 1 ? (tensor) => rewrite(tensor, (s) => (s.number === 2 ? "drop" : "keep")) : "keep")) : "keep",
  );

/** A copy of an ONNX model whose inputs and outputs have no declared shape and whose graph records no inferred ones. */
export function withFreeShapes(model: Uint8Array): Uint8Array {
  if (!fields(model).some((f) => f.number === 7 && f.wireType === 2)) throw new Error("not an ONNX file: no graph");
  return rewrite(model, (f) =>
    f.number === 7 ? (graph) => rewrite(graph, (g) => (g.number === 13 ? "drop" : g.number === 11 || g.number === 12 ? withoutShape : "keep")) : "keep",
  );
}

/** The declared dimensions of a graph's inputs (11) or outputs (12), by name; [] for one without a shape. */
export function declaredShapes(model: Uint8Array, which: 11 | 12 = 11): Record<string, number[]> {
  const text = new TextDecoder();
  const out: Record<string, number[]> = {};
  const graph = fields(model).find((f) => f.number === 7 && f.wireType === 2);
  if (!graph) return out;
  const sub = (f: Field, n: number) => fields(model, f.start, f.end).filter((c) => c.number === n && c.wireType === 2);
  for (const info of sub(graph, which)) {
    const name = sub(info, 1)[0];
    const shape = sub(info, 2).flatMap((t) => sub(t, 1)).flatMap((tensor) => sub(tensor, 2))[0];
    const dims = shape
      ? sub(shape, 1).map((d) => {
          const v = fields(model, d.start, d.end).find((c) => c.number === 1 && c.wireType === 0);
          return v ? readVarint(model, v.start).value : -1;
        })
      : [];
    out[name ? text.decode(model.subarray(name.start, name.end)) : ""] = dims;
  }
  return out;
}

/** How many `value_info` entries (recorded intermediate shapes) the graph carries. */
export function valueInfoCount(model: Uint8Array): number {
  const graph = fields(model).find((f) => f.number === 7 && f.wireType === 2);
  return graph ? fields(model, graph.start, graph.end).filter((f) => f.number === 13).length : 0;
}
