#!/usr/bin/ruby
# A Sinatra app that keeps its WorkOS session as the Ruby SDK does
# (workos-ruby lib/workos/encryptors/aes_gcm.rb, session_manager.rb,
# session.rb): the sealed session is
# Base64.strict_encode64(0x01 | iv | tag | AES-256-GCM(JSON.generate(data)))
# with key SHA-256(cookie_password), in the cookie `wos_session` (which Rack
# percent-encodes when it sets it, and decodes when it reads it);
# authenticate unseals it and verifies the RS256 access token against the
# client's JWKS; refresh trades the refresh token at
# /user_management/authenticate and seals the answer again. The SDK and its
# jwt gem are not installable here (no RubyGems): their steps are reproduced
# with Ruby's openssl.
#
# Routes under the prefix as in flask_app.py: login, callback, me, logout, adopt.
#
#   sinatra_app.rb PORT PREFIX API_URL CLIENT_ID PUBLIC_URL
#   (WOS_APP_API_KEY and WOS_APP_COOKIE_PASSWORD in the environment)
require "base64"
require "digest"
require "json"
require "net/http"
require "openssl"
require "securerandom"
require "sinatra/base"
require "uri"

PORT, PREFIX, API, CLIENT_ID, PUBLIC_URL = ARGV
API_KEY = ENV.fetch("WOS_APP_API_KEY")
PASSWORD = ENV.fetch("WOS_APP_COOKIE_PASSWORD")
COOKIE = "wos_session"

# Encryptors::AesGcm
module AesGcm
  module_function

  def seal(data, key)
    cipher = OpenSSL::Cipher.new("aes-256-gcm").encrypt
    cipher.key = Digest::SHA256.digest(key)
    iv = SecureRandom.random_bytes(12)
    cipher.iv = iv
    ciphertext = cipher.update(JSON.generate(data)) + cipher.final
    Base64.strict_encode64(1.chr + iv + cipher.auth_tag + ciphertext)
  end

  def unseal(sealed, key)
    raw = Base64.decode64(sealed.to_s)
    begin
      decode_v7(raw, key)
    rescue ArgumentError, OpenSSL::Cipher::CipherError => e
      begin
        decode_old(raw, key)
      rescue ArgumentError, OpenSSL::Cipher::CipherError
        raise e
      end
    end
  end

  def decode_v7(raw, key)
    raise ArgumentError, "too short" if raw.bytesize < 29
    raise ArgumentError, "version" unless raw.bytes.first == 1
    c = OpenSSL::Cipher.new("aes-256-gcm").decrypt
    c.key = Digest::SHA256.digest(key)
    c.iv = raw.byteslice(1, 12)
    c.auth_tag = raw.byteslice(13, 16)
    JSON.parse(c.update(raw.byteslice(29, raw.bytesize - 29)) + c.final)
  end

  def decode_old(raw, key)
    raise ArgumentError, "too short" if raw.bytesize < 28
    c = OpenSSL::Cipher.new("aes-256-gcm").decrypt
    c.key = key
    c.iv = raw.byteslice(0, 12)
    c.auth_tag = raw.byteslice(raw.bytesize - 16, 16)
    JSON.parse(c.update(raw.byteslice(12, raw.bytesize - 28)) + c.final)
  end
end

def api_post(path, body)
  uri = URI(API + path)
  Net::HTTP.post(uri, JSON.generate(body), "Content-Type" => "application/json")
end

# RS256 as the jwt gem checks it: the key by kid from the JWKS, then exp.
def rsa_key(jwk)
  int = ->(s) { OpenSSL::BN.new(Base64.urlsafe_decode64(s + "=" * (-s.size % 4)), 2) }
  pub = OpenSSL::ASN1::Sequence([OpenSSL::ASN1::Integer(int.(jwk["n"])),
                                 OpenSSL::ASN1::Integer(int.(jwk["e"]))])
  spki = OpenSSL::ASN1::Sequence([
    OpenSSL::ASN1::Sequence([OpenSSL::ASN1::ObjectId("rsaEncryption"), OpenSSL::ASN1::Null(nil)]),
    OpenSSL::ASN1::BitString(pub.to_der)])
  OpenSSL::PKey::RSA.new(spki.to_der)
end

class ExpiredSignature < StandardError; end
class DecodeError < StandardError; end

def decode_jwt(token)
  head, body, sig = token.split(".")
  raise DecodeError, "form" unless head && body && sig
  dec = ->(s) { Base64.urlsafe_decode64(s + "=" * (-s.size % 4)) }
  header = JSON.parse(dec.(head))
  raise DecodeError, "alg" unless header["alg"] == "RS256"
  jwks = JSON.parse(Net::HTTP.get(URI("#{API}/sso/jwks/#{CLIENT_ID}")))
  jwk = jwks["keys"].find { |k| k["kid"] == header["kid"] } or raise DecodeError, "kid"
  ok = rsa_key(jwk).verify("SHA256", dec.(sig), "#{head}.#{body}")
  raise DecodeError, "signature" unless ok
  claims = JSON.parse(dec.(body))
  raise ExpiredSignature, "expired" if claims["exp"].nil? || claims["exp"] <= Time.now.to_i
  claims
end

# SessionManager#seal_session_from_auth_response
def seal_answer(a)
  payload = {"access_token" => a["access_token"], "refresh_token" => a["refresh_token"]}
  payload["user"] = a["user"] if a["user"]
  payload["impersonator"] = a["impersonator"] if a["impersonator"]
  AesGcm.seal(payload, PASSWORD)
end

# Session#authenticate
def authenticate(sealed)
  return {"authenticated" => false, "reason" => "no_session_cookie_provided"} if sealed.nil? || sealed.empty?
  session = begin
    AesGcm.unseal(sealed, PASSWORD)
  rescue ArgumentError, OpenSSL::Cipher::CipherError, JSON::ParserError
    return {"authenticated" => false, "reason" => "invalid_session_cookie"}
  end
  return {"authenticated" => false, "reason" => "invalid_session_cookie"} unless session.is_a?(Hash) && session["access_token"]
  claims = begin
    decode_jwt(session["access_token"])
  rescue ExpiredSignature
    return {"authenticated" => false, "reason" => "expired_jwt"}
  rescue DecodeError
    return {"authenticated" => false, "reason" => "invalid_jwt"}
  end
  {"authenticated" => true, "session_id" => claims["sid"], "user" => session["user"],
   "organization_id" => claims["org_id"], "refresh_token" => session["refresh_token"]}
end

# Session#refresh
def refresh(sealed)
  session = AesGcm.unseal(sealed, PASSWORD)
  r = api_post("/user_management/authenticate",
               {"grant_type" => "refresh_token", "client_id" => CLIENT_ID,
                "client_secret" => API_KEY, "refresh_token" => session["refresh_token"]})
  return [nil, {"authenticated" => false, "reason" => r.body}] unless r.code == "200"
  a = JSON.parse(r.body)
  new_sealed = seal_answer(a)
  claims = decode_jwt(a["access_token"])
  [new_sealed, {"authenticated" => true, "session_id" => claims["sid"], "user" => a["user"],
                "organization_id" => claims["org_id"], "refresh_token" => a["refresh_token"]}]
end

class App < Sinatra::Base
  set :server, "webrick"
  set :bind, "127.0.0.1"
  set :port, PORT.to_i
  set :logging, false
  set :show_exceptions, false
  set :absolute_redirects, false
  set :host_authorization, {permitted_hosts: []} if settings.respond_to?(:host_authorization)

  def store(sealed)
    response.set_cookie(COOKIE, value: sealed, path: "/", httponly: true, same_site: :lax)
  end

  get "#{PREFIX}/login" do
    q = URI.encode_www_form("client_id" => CLIENT_ID, "redirect_uri" => "#{PUBLIC_URL}#{PREFIX}/callback",
                            "response_type" => "code", "provider" => "authkit", "state" => "app")
    redirect "#{API}/user_management/authorize?#{q}"
  end

  get "#{PREFIX}/callback" do
    r = api_post("/user_management/authenticate",
                 {"grant_type" => "authorization_code", "client_id" => CLIENT_ID,
                  "client_secret" => API_KEY, "code" => params["code"]})
    halt 401, r.body unless r.code == "200"
    store(seal_answer(JSON.parse(r.body)))
    redirect "#{PREFIX}/me"
  end

  post "#{PREFIX}/adopt" do
    store(seal_answer(JSON.parse(request.body.read)))
    content_type :json
    JSON.generate("ok" => true)
  end

  get "#{PREFIX}/me" do
    content_type :json
    sealed = request.cookies[COOKIE]
    a = authenticate(sealed)
    refreshed = false
    if !a["authenticated"] && a["reason"] == "expired_jwt"
      sealed, a = refresh(sealed)
      refreshed = true
      store(sealed) if sealed
    end
    halt 401, JSON.generate(a) unless a["authenticated"]
    JSON.generate(a.merge("refreshed" => refreshed))
  end

  get "#{PREFIX}/logout" do
    a = authenticate(request.cookies[COOKIE])
    halt 401, JSON.generate(a) unless a["authenticated"]
    response.delete_cookie(COOKIE, path: "/")
    q = URI.encode_www_form("session_id" => a["session_id"], "return_to" => "#{PUBLIC_URL}/bye")
    redirect "#{API}/user_management/sessions/logout?#{q}"
  end
end

App.run!
