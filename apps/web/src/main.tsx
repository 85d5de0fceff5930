import '@mantine/core/styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './App.tsx';
import { createApiClient } from './api/client.ts';
import { newQueryClient, Root } from './Root.tsx';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');
createRoot(container).render(
  <StrictMode>
    <Root client={createApiClient()} queryClient={newQueryClient()}>
      <BrowserRouter>
        <App />
      </BrowserRouter>
    </Root>
  </StrictMode>,
);
