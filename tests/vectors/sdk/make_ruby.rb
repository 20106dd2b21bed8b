#!/usr/bin/ruby
# AES-256-GCM vectors of the WorkOS Ruby SDK's sealed session, made with
# Ruby's openssl following workos-ruby's Encryptors::AesGcm (7.1.1 and later):
#   Base64.strict_encode64(0x01.chr + iv + auth_tag + ciphertext),
#   key = SHA-256(password), payload JSON.generate(session);
# and the legacy cookies of workos-ruby 5/6 that its reader still accepts:
#   Base64.encode64(iv + ciphertext + auth_tag), key = the 32-byte password.
# Cookies as Rack sets them are percent-encoded (`+ / =` and newlines).
#
# Writes ruby.json next to this file; vectors as in make_python.py.
require "base64"
require "digest"
require "json"
require "openssl"
require "securerandom"
require "uri"

HERE = __dir__
USER = JSON.parse(File.read(File.join(HERE, "user.json")))

def gcm(key, iv, data)
  c = OpenSSL::Cipher.new("aes-256-gcm").encrypt
  c.key = key
  c.iv = iv
  ct = c.update(data) + c.final
  [ct, c.auth_tag]
end

# Encryptors::AesGcm#seal
def seal(data, password, version: 0x01)
  iv = SecureRandom.random_bytes(12)
  ct, tag = gcm(Digest::SHA256.digest(password), iv, JSON.generate(data))
  Base64.strict_encode64(version.chr + iv + tag + ct)
end

# workos-ruby 5/6 (the encryptor gem, key = the password itself)
def seal_legacy(data, password)
  iv = SecureRandom.random_bytes(12)
  ct, tag = gcm(password, iv, JSON.generate(data))
  Base64.encode64(iv + ct + tag)
end

# What Rack's set_cookie writes (escape = URI.encode_www_form_component).
def rack(value)
  URI.encode_www_form_component(value)
end

def session(extra = {})
  {"access_token" => "eyJhbGciOiJSUzI1NiJ9.e30.sig", "refresh_token" => "rt_01HREFRESH",
   "user" => USER}.merge(extra)
end

def flip(cookie, at)
  raw = Base64.decode64(cookie).bytes
  raw[at] ^= 1
  Base64.strict_encode64(raw.pack("C*"))
end

password = SecureRandom.alphanumeric(40)
old = SecureRandom.alphanumeric(48)
legacy = SecureRandom.alphanumeric(32)
other = SecureRandom.alphanumeric(40)
vectors = []
ok = ->(name, pws, cookie, payload) {
  vectors << {"name" => name, "passwords" => pws, "cookie" => cookie, "payload" => payload,
              "refused" => nil}
}
refused = ->(name, pws, cookie, why) {
  vectors << {"name" => name, "passwords" => pws, "cookie" => cookie, "payload" => nil,
              "refused" => why}
}

s = session
good = seal(s, password)
ok.("session", [password], good, JSON.generate(s))
ok.("session_rack_escaped", [password], rack(good), JSON.generate(s))
imp = session("impersonator" => {"email" => "admin@example.com", "reason" => "support"})
ok.("impersonator", [password], seal(imp, password), JSON.generate(imp))
uni = session("user" => USER.merge("first_name" => "Zoë", "last_name" => "Ångström 李"))
ok.("unicode", [password], seal(uni, password), JSON.generate(uni))
ok.("rotated", [other, old], seal(s, old), JSON.generate(s))
leg = session("organization_id" => "org_01HLEGACY", "impersonator" => "null")
legacy_cookie = seal_legacy(leg, legacy)
ok.("legacy_v6", [password, legacy], legacy_cookie, JSON.generate(leg))
ok.("legacy_v6_rack_escaped", [legacy], rack(legacy_cookie), JSON.generate(leg))
refused.("legacy_needs_32_byte_password", [legacy + "x"], legacy_cookie, "mac")
refused.("wrong_key", [other], good, "mac")
refused.("tampered_ciphertext", [password], flip(good, 40), "mac")
refused.("tampered_tag", [password], flip(good, 14), "mac")
refused.("tampered_iv", [password], flip(good, 2), "mac")
refused.("wrong_version_byte", [password], seal(s, password, version: 0x02), "mac")
refused.("truncated", [password], Base64.strict_encode64(Base64.decode64(good)[0, 20]), "any")
refused.("url_safe_alphabet", [password], Base64.urlsafe_encode64(Base64.decode64(good)).tr("=", "") +
         ("=" * (-Base64.urlsafe_encode64(Base64.decode64(good)).tr("=", "").size % 4)), "any")
refused.("unknown_percent_escape", [password], good.sub(/.\z/, "%41"), "invalid")
# Each vector checked against the SDK's own reader (AesGcm#unseal's steps, after
# Rack's unescaping): what it accepts, we accept; what it refuses, we refuse.
def sdk_unseal(sealed, key)
  raw = Base64.decode64(sealed.to_s)
  begin
    raise ArgumentError if raw.bytesize < 29 || raw.bytes.first != 1
    c = OpenSSL::Cipher.new("aes-256-gcm").decrypt
    c.key = Digest::SHA256.digest(key)
    c.iv = raw.byteslice(1, 12)
    c.auth_tag = raw.byteslice(13, 16)
    c.update(raw.byteslice(29, raw.bytesize - 29)) + c.final
  rescue ArgumentError, OpenSSL::Cipher::CipherError
    raise ArgumentError if raw.bytesize < 28
    c = OpenSSL::Cipher.new("aes-256-gcm").decrypt
    c.key = key
    c.iv = raw.byteslice(0, 12)
    c.auth_tag = raw.byteslice(raw.bytesize - 16, 16)
    c.update(raw.byteslice(12, raw.bytesize - 28)) + c.final
  end
end

vectors.each do |v|
  cookie = URI.decode_www_form_component(v["cookie"].gsub("+", "%2B"))
  got = v["passwords"].filter_map do |pw|
    sdk_unseal(cookie, pw).force_encoding("UTF-8")
  rescue ArgumentError, OpenSSL::Cipher::CipherError
    nil
  end.first
  # Stricter than the SDK's lenient base64 (which skips what it cannot read):
  # the module refuses characters and escapes no SDK or Rack writes.
  next if %w[url_safe_alphabet unknown_percent_escape].include?(v["name"])
  raise "#{v["name"]}: SDK reader disagrees" unless got == v["payload"]
end
File.write(File.join(HERE, "ruby.json"), JSON.pretty_generate(vectors) + "\n")
