// A field's help text and label as the connector designer shows them (description, then
// x-ms-summary), plus any other extension such as x-ms-visibility: the `.meta()` of a zod schema.
export function field<More extends Record<string, unknown>>(summary: string, description: string, more?: More) {
  return { description, 'x-ms-summary': summary, ...more };
}
