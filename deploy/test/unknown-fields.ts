import ts from "typescript";
import { fileURLToPath } from "node:url";
import type { K8sObject } from "./kustomize.js";

/**
 * kubernetes-models' validate() checks types, formats and required fields but lets unknown fields through, while
 * the API server (kubectl's default strict field validation) refuses them: `readOnlyRootFileSystem` would pass
 * validate() and be ignored or refused in the cluster. TypeScript's excess-property check against the same models'
 * interfaces finds them: each object becomes an object literal typed as its kind's interface.
 */
export function unknownFields(objects: K8sObject[], interfaces: Record<string, { module: string; name: string }>): string[] {
  const file = fileURLToPath(new URL("./__manifests__.ts", import.meta.url));
  const aliases = new Map<string, string>();
  const header: string[] = [];
  const body: string[] = [];
  const owners: { line: number; id: string }[] = [];
  let line = 0;
  objects.forEach((object, index) => {
    const model = interfaces[`${object.apiVersion}/${object.kind}`];
    if (!model) throw new Error(`no interface for ${object.apiVersion}/${object.kind}`);
    let alias = aliases.get(model.module);
    if (!alias) {
      alias = `Model${aliases.size}`;
      aliases.set(model.module, alias);
      header.push(`import type { ${model.name} as ${alias} } from "${model.module}";`);
    }
    const text = `export const object${index}: ${alias} = ${JSON.stringify(object, null, 1)};`;
    owners.push({ line, id: `${object.kind}/${object.metadata.name}` });
    body.push(text);
    line += text.split("\n").length;
  });
  const source = [...header, ...body].join("\n");

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  const sourceFile = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, sourceFile).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
    if (diagnostic.file !== sourceFile || diagnostic.start === undefined) return message;
    const at = sourceFile.getLineAndCharacterOfPosition(diagnostic.start).line - header.length;
    const owner = [...owners].reverse().find((candidate) => candidate.line <= at);
    return `${owner?.id ?? "?"}: ${message}`;
  });
}
