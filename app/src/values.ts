// Exact values: the program's I80F48 fixed-point numbers and native token amounts as exact
// decimal strings and bigints, never binary floats (a float shows 2349.864999999998 where the
// chain holds an exact binary fraction). `toNumber` exists for charts only.
import BN from "bn.js";

/** Fraction bits of the program's I80F48 (`crates/risk/src/fx.rs`). */
const FRAC_BITS = 48n;
const ONE_BITS = 1n << FRAC_BITS;
/** I80F48 is 128 bits, two's complement. */
const MIN_BITS = -(1n << 127n);
const MAX_BITS = (1n << 127n) - 1n;

/** A value the client could not read as a number; `field` names what was read. */
export class ValueError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "ValueError";
  }
}

/** An integer given as bigint, BN, decimal string or safe integer number, as a bigint; the
 * error names `field` (a float, 1e21 or "abc" is refused, never misread). */
function integerOf(v: bigint | BN | string | number, field: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new ValueError(field, `not a safe integer: ${v}`);
  const text = v.toString();
  if (!/^-?\d+$/.test(text)) throw new ValueError(field, `not an integer: ${JSON.stringify(text)}`);
  return BigInt(text);
}

/** `decimals` checked: an integer in 0..=30. */
function checkedDecimals(decimals: number): number {
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 30) {
    throw new ValueError("decimals", `must be an integer in 0..=30, got ${decimals}`);
  }
  return decimals;
}

/** ⌊a / b⌋ for b > 0 (bigint division truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** `magnitude` / 10^scale as a decimal string, trailing fraction zeros dropped. */
function decimalOf(negative: boolean, magnitude: bigint, scale: number): string {
  const ten = 10n ** BigInt(scale);
  const whole = magnitude / ten;
  const fraction = scale === 0 ? "" : (magnitude % ten).toString().padStart(scale, "0").replace(/0+$/, "");
  const text = fraction === "" ? whole.toString() : `${whole}.${fraction}`;
  return negative && magnitude !== 0n ? `-${text}` : text;
}

/**
 * The program's I80F48: a signed binary fixed-point number with 48 fraction bits, held as its
 * exact raw bits. Every I80F48 has a finite decimal expansion (bits·5^48 / 10^48), so
 * `toString` is exact; `toDecimal(digits)` rounds toward −∞, so a shown health or equity is
 * never above the one the program computed.
 */
export class Fx {
  static readonly ZERO = new Fx(0n);

  /** `bits` / 2^48 (checked to fit 128 bits). */
  constructor(readonly bits: bigint) {
    if (bits < MIN_BITS || bits > MAX_BITS) throw new ValueError("I80F48", `raw bits ${bits} do not fit 128 bits`);
  }

  /** From raw bits as the program's return data and events carry them (BN, bigint, string). */
  static fromBits(bits: bigint | BN | string | number): Fx {
    return new Fx(integerOf(bits, "I80F48 bits"));
  }

  /** From a stored I80F48 (`StoredFx`: 16 little-endian bytes, two's complement). */
  static fromStored(value: { bits: ArrayLike<number> } | ArrayLike<number>): Fx {
    const bytes = "bits" in value ? value.bits : value;
    if (bytes.length !== 16) throw new ValueError("StoredFx", `expected 16 bytes, got ${bytes.length}`);
    let v = 0n;
    for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] ?? 0);
    return new Fx(v >= 1n << 127n ? v - (1n << 128n) : v);
  }

  /** An integer number of units. */
  static fromInt(units: bigint | number): Fx {
    return new Fx(integerOf(units, "units") << FRAC_BITS);
  }

  /** A decimal string, exactly when it is a binary fraction of 48 bits or fewer, else rounded
   * toward −∞ to the next 2^−48 (as the program's conversions floor). */
  static fromDecimal(text: string, field = "value"): Fx {
    const { negative, digits, scale } = parseDecimal(text, field);
    const scaled = digits * ONE_BITS;
    const ten = 10n ** BigInt(scale);
    return new Fx(floorDiv(negative ? -scaled : scaled, ten));
  }

  /** Exact decimal string (`toDecimal()` without rounding). */
  toString(): string {
    return this.toDecimal();
  }

  /** JSON carries the exact decimal string. */
  toJSON(): string {
    return this.toString();
  }

  /** Decimal string: exact without `digits`; with `digits` fraction digits, rounded toward −∞. */
  toDecimal(digits?: number): string {
    const exact = this.bits * 5n ** FRAC_BITS; // value × 10^48
    if (digits === undefined) return decimalOf(exact < 0n, exact < 0n ? -exact : exact, Number(FRAC_BITS));
    if (!Number.isInteger(digits) || digits < 0 || digits > 48) {
      throw new ValueError("digits", `must be an integer in 0..=48, got ${digits}`);
    }
    const floored = floorDiv(exact, 10n ** (FRAC_BITS - BigInt(digits)));
    const text = decimalOf(floored < 0n, floored < 0n ? -floored : floored, digits);
    // Keep the requested number of fraction digits (decimalOf drops trailing zeros).
    if (digits === 0) return text;
    const [whole, fraction = ""] = text.split(".");
    return `${whole}.${fraction.padEnd(digits, "0")}`;
  }

  /** The nearest binary float: for charts and logs, never for decisions. */
  toNumber(): number {
    return Number(this.bits) / Number(ONE_BITS);
  }

  /** −1, 0 or 1 as this is below, equal to or above `other`. */
  compare(other: Fx): -1 | 0 | 1 {
    return this.bits < other.bits ? -1 : this.bits > other.bits ? 1 : 0;
  }

  isNegative(): boolean {
    return this.bits < 0n;
  }

  add(other: Fx): Fx {
    return new Fx(this.bits + other.bits);
  }

  sub(other: Fx): Fx {
    return new Fx(this.bits - other.bits);
  }
}

/** A decimal string's sign, digits and scale (digits / 10^scale); `ValueError` naming `field`
 * for anything else (empty, exponent notation, NaN, several points, stray characters). */
function parseDecimal(text: string, field: string): { negative: boolean; digits: bigint; scale: number } {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new ValueError(field, `not a decimal number: ${JSON.stringify(text)}`);
  const fraction = m[3] ?? "";
  return { negative: m[1] === "-", digits: BigInt(`${m[2]}${fraction}`), scale: fraction.length };
}

/** A native token amount (integer, `decimals` places) as an exact decimal string in UI units:
 * `nativeToUi(1_500_000n, 6)` is "1.5". */
export function nativeToUi(amount: bigint | BN | number, decimals: number): string {
  checkedDecimals(decimals);
  const v = integerOf(amount, "amount");
  return decimalOf(v < 0n, v < 0n ? -v : v, decimals);
}

/** A UI-unit decimal string as a native amount, exactly: `uiToNative("1.5", 6)` is 1_500_000n.
 * More fraction digits than the token has is an error (never a silent rounding). */
export function uiToNative(text: string, decimals: number, field = "amount"): bigint {
  checkedDecimals(decimals);
  const { negative, digits, scale } = parseDecimal(text, field);
  if (scale > decimals) {
    throw new ValueError(field, `${text} has ${scale} decimal places; the token has ${decimals}`);
  }
  const native = digits * 10n ** BigInt(decimals - scale);
  return negative ? -native : native;
}

/** Basis points as an exact percentage string: 2500 → "25%", 5 → "0.05%". */
export function bpsToPercent(bps: number): string {
  if (!Number.isInteger(bps)) throw new ValueError("bps", `not an integer: ${bps}`);
  const v = BigInt(bps);
  return `${decimalOf(v < 0n, v < 0n ? -v : v, 2)}%`;
}
