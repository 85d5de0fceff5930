import { Button, Group, Stack, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { unwrap } from '../../api/client.ts';
import { useApi } from '../../api/context.tsx';
import { useSession } from '../../auth.tsx';
import { CreditPanel } from '../../components/CreditPanel.tsx';
import { FormAlert } from '../../components/FormAlert.tsx';

/** The customer's own credit: balance, history, alerts, and redeeming a voucher code. */
export function CreditPage() {
  const api = useApi();
  const session = useSession();
  const queryClient = useQueryClient();
  const customerId = session.me?.customerId ?? '';
  const [code, setCode] = useState('');
  const redeem = useMutation({
    mutationFn: async () => unwrap(await api.POST('/api/v1/vouchers/redeem', { body: { code } })),
    onSuccess: () => {
      setCode('');
      return queryClient.invalidateQueries({ queryKey: ['credit', customerId] });
    },
  });
  return (
    <Stack>
      <Title order={1}>Credit</Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          redeem.mutate();
        }}
      >
        <Group align="end">
          <TextInput
            label="Voucher code"
            placeholder="XXXX-XXXX-XXXX-XXXX"
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
          />
          <Button type="submit" loading={redeem.isPending} disabled={code.trim().length < 16}>
            Redeem
          </Button>
        </Group>
      </form>
      <FormAlert error={redeem.error} />
      {customerId ? <CreditPanel customerId={customerId} /> : null}
    </Stack>
  );
}
