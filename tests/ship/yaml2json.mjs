// yaml2json.mjs FILE.yaml — print the YAML documents of FILE as one JSON array.
import { readFileSync } from "node:fs";
import YAML from "yaml";

const docs = YAML.parseAllDocuments(readFileSync(process.argv[2], "utf8"));
const out = [];
for (const d of docs) {
  if (d.errors.length) {
    console.error(`${process.argv[2]}: ${d.errors[0].message}`);
    process.exit(1);
  }
  const v = d.toJSON();
  if (v !== null && v !== undefined) out.push(v);
}
process.stdout.write(JSON.stringify(out) + "\n");
