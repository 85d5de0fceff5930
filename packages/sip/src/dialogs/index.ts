export * from './dialog.ts';
export * from './dialog-table.ts';
