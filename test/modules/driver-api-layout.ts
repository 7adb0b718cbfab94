/** The driver-api test module's line and flag bits (tests import this, not the module). */
export const DAPI_IRQ = 21;
/** request_irq'd in init: machine-wide. */
export const DAPI_SHARED_IRQ = 22;
export const F_SHARED_INSIDE = 2;
export const SHARED_HANDLER_US = 100;
export const F_HANDLER_IN = 0;
export const F_HANDLER_OUT = 1;
/** How long the slow handler runs (machine time). */
export const HANDLER_US = 50_000;
/** Word offsets of the module's DEFINE_SHARED('dapi', ...) fields. */
export const D_DONE = 0;
export const D_WOKE = 1;
export const D_LEFT = 2;
export const D_FLAGS = 3;
export const D_IRQS = 4;
export const D_LOCK = 6;
export const D_COUNTER = 7;
export const MUTEX_ROUNDS = 100;
export const D_SHARED_RUNS = 8;
export const D_OVERLAPS = 9;
export const D_READY = 10;
