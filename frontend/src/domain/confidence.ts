/**
 * When the report names an expression and when it says it was unclear: the worker decides it, once, per segment of the
 * result document (`Segment.confidence` and `Segment.unclear`, against `Summary.unclear_below`, the threshold from the
 * shipped model's calibration figures: `python -m training.unclear_threshold`). The web app only reads it.
 */
import type { Band } from "./ribbon";

/** A band of the ribbon with how sure the model was of its expression (see `Band.confidence` and `Band.unclear`). */
export type ReadBand = Band;
