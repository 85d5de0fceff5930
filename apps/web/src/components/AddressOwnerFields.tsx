import { NativeSelect, TextInput } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { UseFormRegisterReturn } from 'react-hook-form';
import { unwrap } from '../api/client.ts';
import { useApi } from '../api/context.tsx';
import { useSession } from '../auth.tsx';
import { recordOptions } from './options.ts';

/**
 * Who may own a new call address (hunt group, auto-attendant) and where: a customer is the owner itself,
 * a reseller or the operator chooses one of the customers in scope; the domains are those in scope.
 */
export function useAddressOwners(what: string) {
  const api = useApi();
  const me = useSession().me;
  const provider = me?.role !== 'customer';
  const domains = useQuery({
    queryKey: ['domains', `for-${what}`],
    queryFn: async () => unwrap(await api.GET('/api/v1/domains', { params: { query: { perPage: 500 } } })),
  });
  const customers = useQuery({
    queryKey: ['customers', `for-${what}`],
    enabled: provider,
    queryFn: async () => unwrap(await api.GET('/api/v1/customers', { params: { query: { perPage: 500 } } })),
  });
  return {
    provider,
    ownCustomerId: me?.customerId ?? '',
    domains: domains.data?.items,
    customers: customers.data?.items,
  };
}

/** The address part of a new group's or attendant's form: customer (for providers), domain, user name, name. */
export function AddressOwnerFields(props: {
  owners: ReturnType<typeof useAddressOwners>;
  fields: Record<'customerId' | 'domainId' | 'username' | 'name', UseFormRegisterReturn>;
  errors: Partial<Record<'domainId' | 'username' | 'name', { message?: string }>>;
}) {
  const { owners, fields, errors } = props;
  return (
    <>
      {owners.provider && (
        <NativeSelect
          label="Customer"
          {...fields.customerId}
          data={recordOptions(owners.customers, 'Create a customer first')}
        />
      )}
      <NativeSelect
        label="Domain"
        {...fields.domainId}
        error={errors.domainId?.message}
        data={recordOptions(owners.domains, 'Create a domain first')}
      />
      <TextInput label="User name" {...fields.username} error={errors.username?.message} />
      <TextInput label="Name" {...fields.name} error={errors.name?.message} />
    </>
  );
}
