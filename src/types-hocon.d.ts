// Types for the untyped HOCON parser: it takes the text and resolves to the parsed tree.
declare module '@pushcorn/hocon-parser' {
  const parser: { parse(opts: { text: string }): Promise<unknown> };
  export default parser;
}
