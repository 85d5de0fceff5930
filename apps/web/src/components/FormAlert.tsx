import { Alert } from '@mantine/core';
import { ApiProblem } from '../api/client.ts';

export function FormAlert({ error }: { error: Error | null }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert">
      {error.message}
    </Alert>
  );
}

/**
 * The API's message for one body field of the problem it answered with (`/body/<field>`), to show at that
 * field's input as well as in the form's alert.
 */
export function problemField(error: Error | null, field: string): string | undefined {
  if (!(error instanceof ApiProblem)) return undefined;
  return error.problem.errors?.find((e) => e.field === `/body/${field}`)?.message;
}
