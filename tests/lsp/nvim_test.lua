-- aetherd --lsp through headless Neovim's built-in LSP client (Debian 12 ships Neovim 0.7:
-- vim.lsp.start_client + buf_attach_client; 0.8+ has vim.lsp.start, docs/LSP.md).
--   AE_BUILD_DIR=build AE_LSP_WS=/tmp/ws AE_LSP_EXPECTED=expected.json AE_LSP_OUT=out.txt \
--     nvim --headless -u NONE -i NONE -n -c 'luafile tests/lsp/nvim_test.lua'
-- AE_LSP_EXPECTED holds the reference hover text per qualified name (tests/lsp/lib.mjs writes
-- it from the store); every check is a line in AE_LSP_OUT; :cquit on any failure.
local ws = assert(os.getenv('AE_LSP_WS'))
local aetherd = assert(os.getenv('AE_BUILD_DIR')) .. '/aetherd'
local out = assert(io.open(assert(os.getenv('AE_LSP_OUT')), 'w'))
local ef = assert(io.open(assert(os.getenv('AE_LSP_EXPECTED'))))
local expected = vim.fn.json_decode(ef:read('*a'))
ef:close()
local scale = tonumber(os.getenv('AE_TEST_TIMEOUT_SCALE') or '1')
local failures, checks = 0, 0

local function check(cond, what, detail)
  checks = checks + 1
  if cond then
    out:write('ok: ' .. what .. '\n')
  else
    failures = failures + 1
    out:write('FAIL: ' .. what .. (detail and (': ' .. vim.inspect(detail)) or '') .. '\n')
  end
  out:flush()
end

local function finish()
  out:write(string.format('%d checks, %d failed\n', checks, failures))
  out:close()
  if failures > 0 then vim.cmd('cquit 1') else vim.cmd('qall!') end
end

local ok, err = pcall(function()
  local exit_code
  local client = vim.lsp.start_client({
    name = 'aetherd',
    cmd = { aetherd, '--workspace', ws, '--lsp' },
    root_dir = ws,
    on_exit = function(code) exit_code = code end,
  })
  check(client ~= nil, 'start_client')

  local function line_of(buf, needle)
    for i, l in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
      if l:find(needle, 1, true) then return i - 1, l end
    end
    error('no line with ' .. needle)
  end
  local function hover(buf, line, character)
    local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = character } }
    local res = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, 20000 * scale)
    local r = res and res[client]
    if not r or r.err then return nil, r and r.err end
    return r.result
  end
  local function hover_text(buf, needle, character)
    local h = hover(buf, (line_of(buf, needle)), character or 4)
    return h and h.contents and h.contents.value
  end

  vim.cmd('edit ' .. vim.fn.fnameescape(ws .. '/pkg/shapes.py'))
  local buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(buf, client)
  check(vim.wait(20000 * scale, function()
    local c = vim.lsp.get_client_by_id(client)
    return c and c.initialized
  end, 20), 'initialized')
  local c = vim.lsp.get_client_by_id(client)
  check(c.server_capabilities == nil or c.server_capabilities.hoverProvider == true
        or (c.resolved_capabilities and c.resolved_capabilities.hover), 'hover capability')

  check(hover_text(buf, 'class Outer') == expected['Outer'], 'hover: fresh SIR (Outer)', hover_text(buf, 'class Outer'))
  check(hover_text(buf, 'return x * 2', 9) == expected['Outer::inner'], 'hover: nested symbol (Outer::inner)')
  check(hover_text(buf, 'return 1 + 0') == expected['Outer::other_zz'], 'hover: stale SIR (Outer::other_zz)')
  check(hover_text(buf, 'total += v') == expected['helper'], 'hover: second version hint (helper)')

  -- an unsaved edit: nvim sends didChange (full sync); hover before saving
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { '', '', 'def nv_fresh(z):', '    return z', '' })
  check(hover_text(buf, 'total += v') == expected['helper'], 'hover after didChange follows the buffer (helper moved)')
  check(hover_text(buf, 'return z') == expected['__no_sir'], 'hover on an unsaved new function: No SIR yet')
  check(vim.bo[buf].modified, 'buffer still unsaved')

  local syms = vim.lsp.buf_request_sync(buf, 'textDocument/documentSymbol',
    { textDocument = { uri = vim.uri_from_bufnr(buf) } }, 20000 * scale)
  local names = {}
  for _, s in ipairs((syms and syms[client] and syms[client].result) or {}) do
    table.insert(names, s.name)
  end
  check(table.concat(names, ',') == 'nv_fresh,Outer,helper', 'documentSymbol of the buffer', names)

  -- non-ASCII: the column nvim computes (UTF-16) for a byte column after the emoji
  vim.cmd('edit ' .. vim.fn.fnameescape(ws .. '/web/uni.js'))
  local ubuf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(ubuf, client)
  local l, text = line_of(ubuf, 'afterEmoji')
  local byte = text:find('afterEmoji', 1, true) - 1
  local u16 = select(2, vim.str_utfindex(text, byte))
  check(u16 == byte - 3, 'str_utfindex: the emoji (4 bytes) is 2 units, ü (2 bytes) 1', { byte = byte, u16 = u16 })
  local h = hover(ubuf, l, u16)
  check(h and h.contents.value == expected['afterEmoji'], 'hover on a non-ASCII line (afterEmoji)', h)
  check(h and h.range['end'].character == select(2, vim.str_utfindex(text)), 'range end in UTF-16 units', h and h.range)

  local stopped = false
  vim.lsp.stop_client(client)
  stopped = vim.wait(20000 * scale, function() return exit_code ~= nil end, 20)
  check(stopped and exit_code == 0, 'shutdown + exit: status 0', exit_code)
end)
if not ok then check(false, 'lua error', err) end
finish()
