// Small numeric helpers.

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function min(values) {
  return values.length === 0 ? NaN : Math.min(...values);
}

export function summary(values) {
  return { median: median(values), min: min(values), runs: values.length, values };
}
