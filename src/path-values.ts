// The longest value a path parameter accepts (package unique names and tenant domains can be long).
// The route schemas use it as their maxLength, so the definitions promise exactly this, and the
// router's own limit is derived from it (see app.ts).
export const PATH_VALUE_MAX_LENGTH = 256;

/**
 * Fastify's router refuses longer (decoded) path values with 414 before validation runs. It is set
 * above the schemas' limit so a value just over it gets the schema's 400 that names the field; only
 * absurd values meet the router's 414.
 */
export const ROUTER_PATH_VALUE_LIMIT = PATH_VALUE_MAX_LENGTH * 2;
