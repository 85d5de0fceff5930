export { escapeUri, isToken, textToWire, unescapeUri, wireToText } from './charset.ts';
export * from './errors.ts';
export * from './params.ts';
export { quote, Scanner, splitList, unquote } from './scanner.ts';
