#include "project/documents.h"

#include <filesystem>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "project/project_testing.h"
#include "project/yaml_util.h"

namespace mgw::project {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Formatted;

// A project that exists only in memory: files by path relative to its root.
class DocumentSetTest : public ::testing::Test {
 protected:
  void Add(const std::string& relative, const std::string& text) { files_[root_ / relative] = text; }

  DocumentSet& Set() {
    if (!set_) {
      set_.emplace(root_, files_);
    }
    return *set_;
  }
  const Document* Load(const std::string& relative) {
    return Set().Load(root_ / relative, diagnostics_);
  }
  // Resolves the node at `key` of `document`'s root.
  std::optional<Located> ResolveKey(const Document* document, const std::string& key) {
    return Set().Resolve(Located{document->root, document}[key], diagnostics_);
  }
  std::vector<std::string> Errors() const {
    return Formatted(diagnostics_, base::Severity::kError);
  }
  std::vector<std::string> Warnings() const {
    return Formatted(diagnostics_, base::Severity::kWarning);
  }

  fs::path root_ = fs::path(::testing::TempDir()) / "mgw-documents-test-root";
  std::map<fs::path, std::string> files_;
  std::optional<DocumentSet> set_;
  base::Diagnostics diagnostics_;
};

TEST_F(DocumentSetTest, LoadLabelsDocumentsRelativeToTheProject) {
  Add("api_definitions/a.yaml", "x: 1\n");
  const Document* document = Load("api_definitions/a.yaml");
  ASSERT_NE(document, nullptr);
  EXPECT_EQ(document->label, "api_definitions/a.yaml");
  EXPECT_EQ(Load("api_definitions/a.yaml"), document);  // loaded once
}

TEST_F(DocumentSetTest, LoadReportsASyntaxErrorWithItsPlace) {
  Add("api_definitions/a.yaml", "a: 1\nb: [1, 2\n");
  EXPECT_EQ(Load("api_definitions/a.yaml"), nullptr);
  ASSERT_EQ(diagnostics_.ErrorCount(), 1u);
  const auto& d = diagnostics_.All()[0];
  EXPECT_EQ(d.location.file, "api_definitions/a.yaml");
  EXPECT_GT(d.location.line, 1);
  EXPECT_THAT(d.message, HasSubstr("cannot parse"));
}

TEST_F(DocumentSetTest, ResolvesALocalReference) {
  Add("api_definitions/a.yaml", R"(use: {$ref: "#/components/schemas/Pet"}
components:
  schemas:
    Pet: {type: object, title: the pet}
)");
  const Document* a = Load("api_definitions/a.yaml");
  ASSERT_NE(a, nullptr);
  auto target = ResolveKey(a, "use");
  ASSERT_TRUE(target);
  EXPECT_EQ(target->document, a);
  EXPECT_EQ(ScalarText(Child(target->node, "title")), "the pet");
  EXPECT_EQ(target->Location().line, 4);
  EXPECT_THAT(Errors(), IsEmpty());
}

TEST_F(DocumentSetTest, ANodeWithoutARefResolvesToItself) {
  Add("api_definitions/a.yaml", "plain: {type: string}\n");
  const Document* a = Load("api_definitions/a.yaml");
  auto target = ResolveKey(a, "plain");
  ASSERT_TRUE(target);
  EXPECT_EQ(ScalarText(Child(target->node, "type")), "string");
}

TEST_F(DocumentSetTest, ResolvesReferencesToOtherFilesAndFollowsChains) {
  Add("api_definitions/api.yaml", R"(error: {$ref: "../common/Error.yaml#/Error"}
whole: {$ref: "pet.yaml"}
)");
  Add("api_definitions/pet.yaml", "type: object\nname: Pet\n");
  Add("common/Error.yaml", R"(Error: {$ref: "#/Real"}
Real: {code: 500}
)");
  const Document* api = Load("api_definitions/api.yaml");
  ASSERT_NE(api, nullptr);
  auto error = ResolveKey(api, "error");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->document->label, "common/Error.yaml");
  EXPECT_EQ(ScalarText(Child(error->node, "code")), "500");
  auto whole = ResolveKey(api, "whole");
  ASSERT_TRUE(whole);
  EXPECT_EQ(ScalarText(Child(whole->node, "name")), "Pet");
  EXPECT_THAT(Errors(), IsEmpty());
  EXPECT_EQ(Set().ReferencedFiles(),
            (std::set<fs::path>{root_ / "api_definitions/pet.yaml", root_ / "common/Error.yaml"}));
}

TEST_F(DocumentSetTest, DecodesEscapedJsonPointerTokens) {
  Add("api_definitions/a.yaml", R"(paths:
  /pets/{id}: {get: {operationId: slash}}
keys:
  a~b: tilde
  50%: percent
  "~1": literal
list: [zero, one, two]
s: {$ref: "#/paths/~1pets~1%7Bid%7D/get"}
t: {$ref: "#/keys/a~0b"}
p: {$ref: "#/keys/50%25"}
l: {$ref: "#/keys/~01"}
i: {$ref: "#/list/2"}
)");
  const Document* a = Load("api_definitions/a.yaml");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(ScalarText(Child(ResolveKey(a, "s")->node, "operationId")), "slash");
  EXPECT_EQ(ScalarText(ResolveKey(a, "t")->node), "tilde");
  EXPECT_EQ(ScalarText(ResolveKey(a, "p")->node), "percent");
  EXPECT_EQ(ScalarText(ResolveKey(a, "l")->node), "literal");
  EXPECT_EQ(ScalarText(ResolveKey(a, "i")->node), "two");
  EXPECT_THAT(Errors(), IsEmpty());
}

TEST(DecodePointerTokenTest, UnescapesTildesAfterPercentDecoding) {
  EXPECT_EQ(DecodePointerToken("a~1b"), "a/b");
  EXPECT_EQ(DecodePointerToken("a~0b"), "a~b");
  EXPECT_EQ(DecodePointerToken("~01"), "~1");
  EXPECT_EQ(DecodePointerToken("%25"), "%");
  EXPECT_EQ(DecodePointerToken("%7Bid%7d"), "{id}");
  EXPECT_EQ(DecodePointerToken("%7E1"), "/");
  EXPECT_EQ(DecodePointerToken("100%"), "100%");
  EXPECT_EQ(DecodePointerToken("~2"), "~2");
}

TEST_F(DocumentSetTest, ReportsADanglingReferenceWithThePlaceOfTheRef) {
  Add("api_definitions/a.yaml", R"(components: {schemas: {}}
use:
  $ref: "#/components/schemas/Nope"
)");
  const Document* a = Load("api_definitions/a.yaml");
  EXPECT_FALSE(ResolveKey(a, "use"));
  EXPECT_THAT(Errors(), ElementsAre("api_definitions/a.yaml:3:3: error: $ref "
                                    "\"#/components/schemas/Nope\" does not resolve (no \"Nope\" "
                                    "in api_definitions/a.yaml)"));
}

TEST_F(DocumentSetTest, ReportsAMissingFile) {
  Add("api_definitions/a.yaml", "use: {$ref: \"missing.yaml#/X\"}\n");
  const Document* a = Load("api_definitions/a.yaml");
  EXPECT_FALSE(ResolveKey(a, "use"));
  ASSERT_EQ(Errors().size(), 1u);
  EXPECT_THAT(Errors()[0], HasSubstr("file api_definitions/missing.yaml does not exist"));
}

TEST_F(DocumentSetTest, ReportsACycleAcrossFilesInsteadOfLooping) {
  Add("api_definitions/a.yaml", "x: {$ref: \"b.yaml#/y\"}\n");
  Add("api_definitions/b.yaml", "y: {$ref: \"a.yaml#/x\"}\n");
  const Document* a = Load("api_definitions/a.yaml");
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(ResolveKey(a, "x"));
  ASSERT_EQ(Errors().size(), 1u);
  EXPECT_THAT(Errors()[0], HasSubstr("api_definitions/a.yaml:1:4: error: $ref cycle"));
  // Walking every reference terminates too, and reports the cycle once.
  Set().CheckAllReferences(*a, diagnostics_);
  EXPECT_EQ(Errors().size(), 1u);
}

TEST_F(DocumentSetTest, ReportsAReferenceToItself) {
  Add("api_definitions/a.yaml", "x: {$ref: \"#/x\"}\n");
  const Document* a = Load("api_definitions/a.yaml");
  EXPECT_FALSE(ResolveKey(a, "x"));
  ASSERT_EQ(Errors().size(), 1u);
  EXPECT_THAT(Errors()[0], HasSubstr("$ref cycle: \"#/x\" refers back to itself"));
}

TEST_F(DocumentSetTest, RefusesReferencesOutsideTheProject) {
  Add("api_definitions/a.yaml", R"(up: {$ref: "../../outside.yaml#/X"}
absolute: {$ref: "/etc/passwd"}
)");
  files_[root_.parent_path() / "outside.yaml"] = "X: 1\n";
  const Document* a = Load("api_definitions/a.yaml");
  EXPECT_FALSE(ResolveKey(a, "up"));
  EXPECT_FALSE(ResolveKey(a, "absolute"));
  EXPECT_THAT(Errors(),
              ElementsAre("api_definitions/a.yaml:1:5: error: $ref \"../../outside.yaml#/X\" "
                          "points outside the project",
                          "api_definitions/a.yaml:2:11: error: $ref \"/etc/passwd\" points "
                          "outside the project"));
}

TEST_F(DocumentSetTest, ARemoteReferenceIsAnErrorWhereItIsUsedAndAWarningElsewhere) {
  Add("api_definitions/a.yaml", "r: {$ref: \"https://example.com/s.yaml#/X\"}\n");
  const Document* a = Load("api_definitions/a.yaml");
  EXPECT_FALSE(Set().ResolveLenient(Located{a->root, a}["r"], diagnostics_));
  EXPECT_THAT(Errors(), IsEmpty());
  ASSERT_EQ(Warnings().size(), 1u);
  EXPECT_THAT(Warnings()[0], HasSubstr("is remote and is not followed"));
  EXPECT_FALSE(ResolveKey(a, "r"));
  ASSERT_EQ(Errors().size(), 1u);
  EXPECT_THAT(Errors()[0], HasSubstr("remote references are not supported"));
}

TEST_F(DocumentSetTest, CheckAllReferencesFollowsOtherFilesAndReportsEachProblemOnce) {
  Add("api_definitions/a.yaml", R"(one: {$ref: "b.yaml#/ok"}
two: {$ref: "b.yaml#/ok"}
bad: {$ref: "#/missing"}
)");
  Add("api_definitions/b.yaml", R"(ok:
  inner: {$ref: "#/gone"}
)");
  const Document* a = Load("api_definitions/a.yaml");
  ASSERT_NE(a, nullptr);
  Set().CheckAllReferences(*a, diagnostics_);
  Set().CheckAllReferences(*a, diagnostics_);
  EXPECT_THAT(Errors(),
              ElementsAre(HasSubstr("api_definitions/a.yaml:3:6: error: $ref \"#/missing\""),
                          HasSubstr("api_definitions/b.yaml:2:10: error: $ref \"#/gone\"")));
}

TEST_F(DocumentSetTest, AnInMemoryFileHidesNothingAndExistsForReferences) {
  Add("api_definitions/new.yaml", "a: 1\n");
  EXPECT_TRUE(Set().Exists(root_ / "api_definitions/new.yaml"));
  EXPECT_FALSE(Set().Exists(root_ / "api_definitions/other.yaml"));
}

TEST_F(DocumentSetTest, LoadRefusesAYamlAliasBomb) {
  std::string bomb = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    std::string line = "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j) {
      line += (j == 0 ? "*a" : ", *a") + std::to_string(i - 1);
    }
    bomb += line + "]\n";
  }
  Add("api_definitions/bomb.yaml", bomb);
  EXPECT_EQ(Load("api_definitions/bomb.yaml"), nullptr);
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("api_definitions/bomb.yaml: error: cannot parse: "
                                              "its aliases (*name) expand it")));
}

TEST_F(DocumentSetTest, LoadAcceptsModestAliasUse) {
  Add("api_definitions/a.yaml", R"(base: &base {type: string, maxLength: 10}
x: *base
y: *base
)");
  const Document* a = Load("api_definitions/a.yaml");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(ScalarText(Child(Child(a->root, "y"), "maxLength")), "10");
}

TEST_F(DocumentSetTest, LoadReportsNestingTooDeepToRead) {
  Add("api_definitions/deep.json", std::string(10000, '[') + std::string(10000, ']'));
  EXPECT_EQ(Load("api_definitions/deep.json"), nullptr);
  EXPECT_THAT(Errors(), ElementsAre(HasSubstr("cannot parse: nested too deeply")));
}

}  // namespace
}  // namespace mgw::project
