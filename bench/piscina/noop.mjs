// The piscina baseline's task: nothing, so only the dispatch is measured.
export default function noop() {}
