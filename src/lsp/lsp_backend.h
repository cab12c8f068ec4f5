/* The real backend of the LSP server: libaether on an open workspace. */
#ifndef AE_LSP_LSP_BACKEND_H
#define AE_LSP_LSP_BACKEND_H

#include "lsp/server.h"

lsp_backend lsp_workspace_backend(ae_workspace *ws);

#endif
