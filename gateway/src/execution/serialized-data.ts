/**
 * A result's `data` already written as JSON (see ResultShape): serialised into the response as it is, not parsed
 * and written again. Anything that serialises it another way (JSON.stringify, graphql-ws) still gets the data.
 */
export class SerializedData {
  constructor(readonly json: string) {}

  toJSON(): unknown {
    return JSON.parse(this.json);
  }
}

/** A GraphQL result as JSON, its fields in their order, undefined ones left out, written data inserted as it is. */
export function serializeResult(result: object): string {
  let json = "";
  for (const [key, value] of Object.entries(result)) {
    if (value === undefined) continue;
    json += `${json ? "," : "{"}${JSON.stringify(key)}:${value instanceof SerializedData ? value.json : JSON.stringify(value)}`;
  }
  return json ? `${json}}` : "{}";
}
