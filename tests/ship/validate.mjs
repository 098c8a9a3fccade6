// validate.mjs — offline schema validation of rendered Kubernetes manifests.
//
//   node validate.mjs RENDERED.yaml...   one line per file (ok/FAIL), exit 1 on any error
//
// Two independent checks per object, both from the kubernetes-models packages
// (generated from the Kubernetes OpenAPI spec and from the Argo Rollouts and
// prometheus-operator CRDs' openAPIV3Schema):
//   1. schema: the package's JSON-schema validator (types, required fields,
//      enums, formats such as int32 or quantity);
//   2. strict: the object as a TypeScript literal typed with the package's
//      interface, so that TypeScript's excess-property check rejects every
//      field the schema does not know (what `kubectl apply --validate=strict`
//      would reject on a live cluster).
// A kind with no model is an error: nothing goes unvalidated silently.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import ts from "typescript";

const here = dirname(fileURLToPath(import.meta.url));

// apiVersion group -> package that models it.
const PACKAGES = [
  { match: (g) => g === "argoproj.io", pkg: "@kubernetes-models/argo-rollouts" },
  { match: (g) => g === "monitoring.coreos.com", pkg: "@kubernetes-models/prometheus-operator" },
  { match: () => true, pkg: "kubernetes-models" },
];

function modulePath(apiVersion, kind) {
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const { pkg } = PACKAGES.find((p) => p.match(group));
  return `${pkg}/${apiVersion}/${kind}`;
}

export function readDocs(file) {
  const text = readFileSync(file, "utf8");
  const docs = YAML.parseAllDocuments(text);
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    const v = d.toJSON();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function describe(o) {
  const ns = o?.metadata?.namespace ? `${o.metadata.namespace}/` : "";
  return `${o?.kind ?? "?"} ${ns}${o?.metadata?.name ?? "?"}`;
}

async function schemaErrors(o) {
  if (!o || typeof o !== "object" || !o.apiVersion || !o.kind) return ["no apiVersion/kind"];
  let mod;
  try {
    mod = await import(modulePath(o.apiVersion, o.kind));
  } catch {
    return [`no schema for ${o.apiVersion} ${o.kind} in the installed models`];
  }
  const Model = mod[o.kind];
  if (!Model) return [`model module has no export ${o.kind}`];
  try {
    new Model(o).validate();
    return [];
  } catch (e) {
    return String(e.message || e).split("\n").filter(Boolean);
  }
}

// Unknown fields: every object becomes `const oN: IKind = <literal>;`.
function strictErrors(items) {
  // Inside this folder, so that the imports resolve to ./node_modules.
  const dir = mkdtempSync(join(here, ".strict-"));
  try {
    const lines = [];
    const where = []; // line number -> item index
    items.forEach((it, i) => {
      const { o } = it;
      const spec = modulePath(o.apiVersion, o.kind);
      lines.push(`import type { I${o.kind} as T${i} } from "${spec}";`);
      where.push(-1);
    });
    items.forEach((it, i) => {
      const body = JSON.stringify(it.o, null, 1).split("\n");
      body[0] = `export const o${i}: T${i} = ` + body[0];
      body[body.length - 1] += ";";
      for (const l of body) {
        lines.push(l);
        where.push(i);
      }
    });
    const file = join(dir, "objects.ts");
    writeFileSync(file, lines.join("\n") + "\n");
    const options = {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const program = ts.createProgram({ rootNames: [file], options, host });
    const errs = items.map(() => []);
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      if (!d.file || d.file.fileName !== file.replace(/\\/g, "/")) {
        errs.forEach((e) => e.push(`typescript: ${msg}`));
        continue;
      }
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const idx = where[line];
      const text = lines[line].trim();
      if (idx >= 0) errs[idx].push(`${msg.split("\n")[0]} (at ${text.slice(0, 80)})`);
      else errs.forEach((e) => e.push(msg.split("\n")[0]));
    }
    return errs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv) {
  let failed = 0;
  for (const file of argv) {
    let docs;
    try {
      docs = readDocs(file);
    } catch (e) {
      console.log(`FAIL - schema: ${file}: ${e.message}`);
      failed++;
      continue;
    }
    const items = [];
    const problems = [];
    for (const o of docs) {
      const errs = await schemaErrors(o);
      for (const e of errs) problems.push(`${describe(o)}: schema: ${e}`);
      if (!errs.length || !errs[0].startsWith("no schema")) items.push({ o });
    }
    const strict = items.length ? strictErrors(items) : [];
    strict.forEach((errs, i) => {
      for (const e of errs) problems.push(`${describe(items[i].o)}: strict: ${e}`);
    });
    if (problems.length) {
      failed++;
      console.log(`FAIL - schema: ${file}: ${docs.length} objects, ${problems.length} problems`);
      for (const p of problems) console.log(`    ${p}`);
    } else {
      const kinds = [...new Set(docs.map((o) => o.kind))].sort().join(", ");
      console.log(`ok   - schema: ${file}: ${docs.length} objects valid (${kinds})`);
    }
  }
  return failed ? 1 : 0;
}

if (resolve(process.argv[1] || "") === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((rc) => process.exit(rc));
}
