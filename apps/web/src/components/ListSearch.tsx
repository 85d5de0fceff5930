import { TextInput } from '@mantine/core';

/** The search box above a record list; the list refetches from the server as the text changes. */
export function ListSearch(props: { placeholder: string; value: string; onChange: (value: string) => void }) {
  return (
    <TextInput
      label="Search"
      placeholder={props.placeholder}
      type="search"
      value={props.value}
      onChange={(e) => props.onChange(e.currentTarget.value)}
      maw={320}
    />
  );
}
