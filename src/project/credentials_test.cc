#include "project/credentials.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "project/project_testing.h"

namespace mgw::project {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::Formatted;

constexpr const char* kPublicKey = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAElmYfo+b2C3h036ZEN5DzlQRJdwoH
gplcNZZr/E4htJgxL6PilSmRzrKHosFa4/TDgvl9YP+JEj5qVZ1sTaWa1Q==
-----END PUBLIC KEY-----
)";

constexpr const char* kCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBfjCCASOgAwIBAgIUcOSFsIRmkLWt5EoR3jHqwIeCwM8wCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIbWd3LXRlc3QwIBcNMjYxMTMwMTM1OTI3WhgPMjEyNjExMDYx
MzU5MjdaMBMxETAPBgNVBAMMCG1ndy10ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAElmYfo+b2C3h036ZEN5DzlQRJdwoHgplcNZZr/E4htJgxL6PilSmRzrKH
osFa4/TDgvl9YP+JEj5qVZ1sTaWa1aNTMFEwHQYDVR0OBBYEFNEF2Q7PuQCF/DHc
JEBkVT9X+aCjMB8GA1UdIwQYMBaAFNEF2Q7PuQCF/DHcJEBkVT9X+aCjMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAPxuUWoKpylAhyl/dMC0PZSd
dCVtJAHFizZGT7LN04y2AiEAxoQAtQB3CAAR0gpCZCKRusTzYfy5V2ZtA7uePOVE
Oeo=
-----END CERTIFICATE-----
)";

// A throw-away test key; it protects nothing.
constexpr const char* kPrivateKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXDzN/mswLyc5GCDI
B43e5dz9axeeBb3J7kiifU6eswWhRANCAASWZh+j5vYLeHTfpkQ3kPOVBEl3CgeC
mVw1lmv8TiG0mDEvo+KVKZHOsoeiwVrj9MOC+X1g/4kSPmpVnWxNpZrV
-----END PRIVATE KEY-----
)";

std::vector<std::string> Errors(const base::Diagnostics& diagnostics) {
  return Formatted(diagnostics, base::Severity::kError);
}

TEST(ParseHtpasswdTest, AcceptsEverySupportedHashWithScopes) {
  base::Diagnostics diagnostics;
  const auto users = ParseHtpasswd(R"(# users
bob:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC
carol:$2b$10$abcdefghijklmnopqrstuu5Z6Xh6Q8k8uZ1v0YQ1a9wJ2V3x4y5z6

alice:$6$salt$hash:write:pets, read:pets
dave:$5$rounds=5000$salt$hash
erin:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=:admin
)",
                                   "users.htpasswd", diagnostics);
  EXPECT_THAT(Errors(diagnostics), IsEmpty());
  ASSERT_EQ(users.size(), 5u);
  EXPECT_EQ(users[0].name, "alice");
  EXPECT_EQ(users[0].hash, "$6$salt$hash");
  EXPECT_EQ(users[0].scopes, (std::vector<std::string>{"read:pets", "write:pets"}));
  EXPECT_EQ(users[1].name, "bob");
  EXPECT_TRUE(users[1].scopes.empty());
  EXPECT_EQ(users[3].hash, "$5$rounds=5000$salt$hash");
  EXPECT_EQ(users[4].name, "erin");
  EXPECT_EQ(users[4].hash, "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");
  EXPECT_EQ(users[4].scopes, std::vector<std::string>{"admin"});
}

TEST(ParseHtpasswdTest, RefusesPlaintextWithoutEverPrintingThePassword) {
  base::Diagnostics diagnostics;
  const auto users = ParseHtpasswd("ok:$6$s$h\nmallory:Sup3rSecretPassw0rd\nmd5:$apr1$x$y\n",
                                   "users.htpasswd", diagnostics);
  ASSERT_EQ(users.size(), 1u);
  const auto errors = Errors(diagnostics);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_THAT(errors[0], HasSubstr("users.htpasswd:2:9: error: user \"mallory\": the password is "
                                   "not hashed with a supported scheme"));
  EXPECT_THAT(errors[0], HasSubstr("plaintext passwords are refused"));
  EXPECT_THAT(errors[1], HasSubstr("users.htpasswd:3:5: error: user \"md5\""));
  for (const auto& error : errors) {
    EXPECT_THAT(error, Not(HasSubstr("Sup3rSecretPassw0rd")));
    EXPECT_THAT(error, Not(HasSubstr("$apr1$x$y")));
  }
}

TEST(ParseHtpasswdTest, RefusesMalformedLinesAndDuplicateUsers) {
  base::Diagnostics diagnostics;
  const auto users = ParseHtpasswd("nocolon\n:$6$s$h\nann:$6$a$b\nann:$6$c$d\n", "users.htpasswd",
                                   diagnostics);
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].hash, "$6$a$b");
  EXPECT_THAT(Errors(diagnostics),
              ElementsAre("users.htpasswd:1:1: error: expected user:hash[:scope1,scope2]",
                          "users.htpasswd:2:1: error: expected user:hash[:scope1,scope2]",
                          "users.htpasswd:4:1: error: user \"ann\" appears twice"));
}

TEST(ParseStaticKeysTest, ReadsDigestsApplicationsAndTiersSortedByDigest) {
  base::Diagnostics diagnostics;
  const std::string upper(64, 'B');
  const auto keys = ParseStaticKeys(
      "# keys\n" + upper + " mobile\tGold\n" + std::string(64, 'a') + "   web   Unlimited\n",
      "api_keys.txt", diagnostics);
  EXPECT_THAT(Errors(diagnostics), IsEmpty());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].sha256, std::string(64, 'a'));
  EXPECT_EQ(keys[0].application, "web");
  EXPECT_EQ(keys[0].tier, "Unlimited");
  EXPECT_EQ(keys[1].sha256, std::string(64, 'b'));
  EXPECT_EQ(keys[1].application, "mobile");
  EXPECT_EQ(keys[1].tier, "Gold");
}

TEST(ParseStaticKeysTest, RefusesBadLines) {
  base::Diagnostics diagnostics;
  const std::string good(64, 'c');
  const auto keys = ParseStaticKeys(good + " app Gold\n" + "the-key-itself app Gold\n" + good +
                                        " other Gold\n" + good + " app\n",
                                    "api_keys.txt", diagnostics);
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_THAT(Errors(diagnostics),
              ElementsAre(HasSubstr("api_keys.txt:2:1: error: the first field must be the key's "
                                    "SHA-256 in hex (64 characters)"),
                          "api_keys.txt:3:1: error: the same key appears twice",
                          "api_keys.txt:4:1: error: expected \"<sha256-hex> <app-name> <tier>\""));
  EXPECT_THAT(Errors(diagnostics)[0], Not(HasSubstr("the-key-itself")));
}

TEST(CheckPublicKeyPemTest, AcceptsCertificatesAndPublicKeys) {
  EXPECT_EQ(CheckPublicKeyPem(kPublicKey), "");
  EXPECT_EQ(CheckPublicKeyPem(kCertificate), "");
  EXPECT_EQ(CheckPublicKeyPem(std::string(kCertificate) + kPublicKey), "");
}

TEST(CheckPublicKeyPemTest, RefusesAnythingElse) {
  EXPECT_EQ(CheckPublicKeyPem("not a pem"), "no PEM certificate or public key found");
  EXPECT_EQ(CheckPublicKeyPem(""), "no PEM certificate or public key found");
  EXPECT_EQ(CheckPublicKeyPem(kPrivateKey),
            "a PEM block \"PRIVATE KEY\" is not a readable certificate or public key");
  EXPECT_EQ(CheckPublicKeyPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            "a PEM block \"CERTIFICATE\" is not a readable certificate or public key");
}

TEST(CheckPrivateKeyPemTest, AcceptsOnlyAReadablePrivateKey) {
  EXPECT_EQ(CheckPrivateKeyPem(kPrivateKey), "");
  EXPECT_EQ(CheckPrivateKeyPem(kPublicKey), "no readable (unencrypted) PEM private key found");
  EXPECT_EQ(CheckPrivateKeyPem(""), "no readable (unencrypted) PEM private key found");
}

TEST(CheckJwksTest, NeedsAKeysArrayWithKtyOnEveryKey) {
  EXPECT_EQ(CheckJwks(R"({"keys": [{"kty": "EC", "crv": "P-256"}]})"), "");
  EXPECT_EQ(CheckJwks(R"({"keys": []})"), "");
  EXPECT_EQ(CheckJwks(R"({"kty": "EC"})"), "a JWKS must be an object with a \"keys\" array");
  EXPECT_EQ(CheckJwks(R"({"keys": [{"crv": "P-256"}]})"), "every JWKS key needs a \"kty\"");
  EXPECT_THAT(CheckJwks("{"), HasSubstr("not valid JSON"));
}

}  // namespace
}  // namespace mgw::project
