// Program error codes mapped to names and messages, read from the IDL.
import idl from "./idl/xmargin.json" with { type: "json" };

export interface ProgramErrorInfo {
  code: number;
  name: string;
  msg?: string;
}

const byCode = new Map<number, ProgramErrorInfo>(
  (idl.errors as ProgramErrorInfo[]).map((e) => [e.code, e]),
);
const byName = new Map<string, ProgramErrorInfo>(
  (idl.errors as ProgramErrorInfo[]).map((e) => [e.name, e]),
);

/** The program error with this custom code, if the code belongs to xmargin. */
export function programError(code: number): ProgramErrorInfo | undefined {
  return byCode.get(code);
}

/** The custom code of a program error by its IDL name (e.g. "ExchangeAlreadyInitialized"). */
export function errorCode(name: string): number {
  const info = byName.get(name);
  if (!info) throw new Error(`unknown xmargin error name: ${name}`);
  return info.code;
}
