import { Button, Stack, Text, Title } from '@mantine/core';
import { Link, useLocation } from 'react-router';

/** An address the app does not know: say so, instead of silently showing another page. */
export function NotFoundPage({ home }: { home: string }) {
  const location = useLocation();
  return (
    <Stack align="flex-start" p="md">
      <Title order={1}>Page not found</Title>
      <Text>
        There is no page at <code>{location.pathname}</code>.
      </Text>
      <Button component={Link} to={home} variant="light">
        Go to the start page
      </Button>
    </Stack>
  );
}
