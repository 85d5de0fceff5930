import { readFile } from 'node:fs/promises';

/** What the generated client knows about the schema: tables and the columns of each model. */
export interface GeneratedModel {
  inlineSchema: string;
  tables: Map<string, Set<string>>;
}

interface RuntimeField {
  name: string;
  kind: 'scalar' | 'enum' | 'object';
  dbName?: string;
}

/**
 * Reads the generated client's embedded copy of schema.prisma and its runtime data model
 * (model -> table, field -> column), straight from the generated source.
 */
export async function readGeneratedModel(): Promise<GeneratedModel> {
  const source = await readFile(
    new URL('../src/generated/prisma/internal/class.ts', import.meta.url),
    'utf8',
  );
  const inline = /"inlineSchema": ("(?:[^"\\]|\\.)*")/.exec(source);
  const runtime = /config\.runtimeDataModel = JSON\.parse\(("(?:[^"\\]|\\.)*")\)/.exec(source);
  if (!inline || !runtime)
    throw new Error('generated client layout changed: inlineSchema/runtimeDataModel not found');
  const dataModel = JSON.parse(JSON.parse(runtime[1]!) as string) as {
    models: Record<string, { dbName: string | null; fields: RuntimeField[] }>;
  };
  const tables = new Map<string, Set<string>>();
  for (const [name, model] of Object.entries(dataModel.models)) {
    const columns = model.fields.filter((f) => f.kind !== 'object').map((f) => f.dbName ?? f.name);
    tables.set(model.dbName ?? name, new Set(columns));
  }
  return { inlineSchema: JSON.parse(inline[1]!) as string, tables };
}
