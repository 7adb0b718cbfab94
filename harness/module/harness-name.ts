/** The name the module harness loads under (it is no module under test). */
export const HARNESS_MODULE_NAME = 'module-harness';
