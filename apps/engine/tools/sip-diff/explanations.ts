export const EXPLANATIONS: readonly import('./explain.ts').Explanation[] = [];
