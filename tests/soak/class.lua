-- tests/soak/class.lua: one class of session cookies under wrk.
--
-- wrk ... -s class.lua URL -- COOKIES PATH BODY_LEN ADOPT DELAY_MS CLOSE
--   COOKIES   file with one Cookie header value per line ("" = no Cookie header);
--             line i is slot i
--   PATH      request path; "?s=<slot>" is appended and the server echoes the
--             query back in X-Soak-Slot (mod_headers), so a response is matched
--             to its slot although wrk does not say which request it answers
--   BODY_LEN  expected body length of a 200
--   ADOPT     "1": a Set-Cookie with a session replaces the slot's cookie, as a
--             browser would (refreshed sessions); "0": never
--   DELAY_MS  pause per connection between requests (0: as fast as possible)
--   CLOSE     "1": send "Connection: close" (a new connection per request)
-- With SOAK_STATE set, done() writes the slots' current cookies there (the
-- newest each thread saw), for the next phase. done() prints "SOAK <key> <n>"
-- lines that tests/soak/run parses.

local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

local cookies, stamp, slots = {}, {}, 0
local path, body_len, adopt, pause, close = "/", -1, false, 0, false
local turn, seq = 0, 0
-- Tallies, read by done() through thread:get().
status_counts = {}
tally = {refreshed = 0, cleared = 0, no_retry_after = 0, bad_body = 0, unmatched = 0,
         retry_after_min = 0, retry_after_max = 0}

function init(args)
    local f = assert(io.open(args[1], "r"))
    for line in f:lines() do
        slots = slots + 1
        cookies[slots] = line
        stamp[slots] = 0
    end
    f:close()
    assert(slots > 0, "no cookies")
    path, body_len = args[2], tonumber(args[3])
    adopt, pause, close = args[4] == "1", tonumber(args[5]), args[6] == "1"
    turn = math.random(slots) - 1
    -- The slots' cookies, for done(): thread:get copies flat tables only.
    slot_cookies, slot_stamps = cookies, stamp
end

function delay()
    return pause
end

function request()
    turn = turn % slots + 1
    local h = {}
    if cookies[turn] ~= "" then
        h["Cookie"] = cookies[turn]
    end
    if close then
        h["Connection"] = "close"
    end
    return wrk.format("GET", path .. "?s=" .. turn, h)
end

local function header(headers, want)
    for k, v in pairs(headers) do
        if string.lower(k) == want then
            return v
        end
    end
    return nil
end

function response(status, headers, body)
    status_counts[status] = (status_counts[status] or 0) + 1
    local slot = tonumber(string.match(header(headers, "x-soak-slot") or "", "^s=(%d+)$"))
    if status == 200 and #body ~= body_len then
        tally.bad_body = tally.bad_body + 1
    end
    if status == 503 then
        local ra = tonumber(header(headers, "retry-after") or "")
        if not ra or ra < 1 then
            tally.no_retry_after = tally.no_retry_after + 1
        else
            if tally.retry_after_min == 0 or ra < tally.retry_after_min then
                tally.retry_after_min = ra
            end
            if ra > tally.retry_after_max then
                tally.retry_after_max = ra
            end
        end
    end
    local set = header(headers, "set-cookie")
    if not set then
        return
    end
    local name, value = string.match(set, "^([^=;]+)=([^;]*)")
    if not name or value == "" then
        tally.cleared = tally.cleared + 1
        return
    end
    if status == 200 then
        tally.refreshed = tally.refreshed + 1
    end
    if not adopt then
        return
    end
    if not slot or slot > slots then
        tally.unmatched = tally.unmatched + 1
        return
    end
    seq = seq + 1
    cookies[slot] = name .. "=" .. value
    stamp[slot] = os.time() * 1000000 + seq
end

function done(summary, latency, requests)
    local statuses, sums = {}, {}
    local newest, newest_stamp = {}, {}
    for _, t in ipairs(threads) do
        for code, n in pairs(t:get("status_counts") or {}) do
            statuses[code] = (statuses[code] or 0) + n
        end
        for k, n in pairs(t:get("tally") or {}) do
            if k == "retry_after_min" then
                if n > 0 and (not sums[k] or n < sums[k]) then
                    sums[k] = n
                end
            elseif k == "retry_after_max" then
                sums[k] = math.max(sums[k] or 0, n)
            else
                sums[k] = (sums[k] or 0) + n
            end
        end
        local cs, ss = t:get("slot_cookies"), t:get("slot_stamps")
        for i = 1, #(cs or {}) do
            if newest_stamp[i] == nil or ss[i] > newest_stamp[i] then
                newest[i], newest_stamp[i] = cs[i], ss[i]
            end
        end
    end
    local e = summary.errors
    io.write(string.format("SOAK requests %d\nSOAK duration_us %d\n", summary.requests,
                           summary.duration))
    io.write(string.format("SOAK err_connect %d\nSOAK err_read %d\nSOAK err_write %d\n",
                           e.connect, e.read, e.write))
    io.write(string.format("SOAK err_timeout %d\nSOAK err_status %d\n", e.timeout, e.status))
    for code, n in pairs(statuses) do
        io.write(string.format("SOAK status_%d %d\n", code, n))
    end
    for k, n in pairs(sums) do
        io.write(string.format("SOAK %s %d\n", k, n))
    end
    for _, p in ipairs({50, 90, 99, 99.9}) do
        io.write(string.format("SOAK p%s_us %d\n", p, latency:percentile(p)))
    end
    io.write(string.format("SOAK max_us %d\n", latency.max))
    local out = os.getenv("SOAK_STATE")
    if out and #newest > 0 then
        local f = assert(io.open(out, "w"))
        for i = 1, #newest do
            f:write(newest[i], "\n")
        end
        f:close()
    end
end
