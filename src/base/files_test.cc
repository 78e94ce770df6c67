#include "base/files.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace mgw::base {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("mgw-files-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Every entry of the test folder, relative and sorted.
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      out.push_back(fs::relative(entry.path(), dir_).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
};

TEST_F(FilesTest, ReadFileReturnsTheExactBytes) {
  const std::string bytes("one\0two\r\n", 9);
  ASSERT_TRUE(WriteFile(dir_ / "f", bytes));
  auto read = ReadFile(dir_ / "f");
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, bytes);
}

TEST_F(FilesTest, ReadFileOfAMissingFileNamesTheFile) {
  auto read = ReadFile(dir_ / "missing.txt");
  ASSERT_FALSE(read);
  EXPECT_NE(read.error().message.find("missing.txt"), std::string::npos);
}

TEST_F(FilesTest, WriteFileCreatesParentFolders) {
  ASSERT_TRUE(WriteFile(dir_ / "a" / "b" / "c.txt", "x"));
  EXPECT_EQ(*ReadFile(dir_ / "a" / "b" / "c.txt"), "x");
}

TEST_F(FilesTest, WriteFileAtomicReplacesTheFileAndLeavesNoTemporary) {
  ASSERT_TRUE(WriteFile(dir_ / "conf", "old contents"));
  ASSERT_TRUE(WriteFileAtomic(dir_ / "conf", "new"));
  EXPECT_EQ(*ReadFile(dir_ / "conf"), "new");
  EXPECT_EQ(Entries(), std::vector<std::string>{"conf"});
}

TEST_F(FilesTest, WriteFileAtomicFailureLeavesTheTargetAndNoTemporary) {
  // The target is a non-empty folder: the final rename fails.
  ASSERT_TRUE(WriteFile(dir_ / "target" / "keep", "kept"));
  auto written = WriteFileAtomic(dir_ / "target", "data");
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().message.find("target"), std::string::npos);
  EXPECT_EQ(Entries(), (std::vector<std::string>{"target", "target/keep"}));
  EXPECT_EQ(*ReadFile(dir_ / "target" / "keep"), "kept");
}

TEST_F(FilesTest, WriteFileAtomicIntoAnImpossibleFolderFailsWithoutWritingAnything) {
  ASSERT_TRUE(WriteFile(dir_ / "plain", "a file, not a folder"));
  auto written = WriteFileAtomic(dir_ / "plain" / "child", "data");
  ASSERT_FALSE(written);
  EXPECT_EQ(Entries(), std::vector<std::string>{"plain"});
}

TEST_F(FilesTest, TemporarySiblingsAreHiddenBesideThePathAndUnique) {
  const fs::path a = TemporarySibling(dir_ / "out");
  const fs::path b = TemporarySibling(dir_ / "out");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.parent_path(), dir_);
  EXPECT_EQ(a.filename().string().rfind(".out.tmp-", 0), 0u);
}

TEST_F(FilesTest, StagingDirectoryWithoutCommitLeavesNothingBehind) {
  {
    auto staging = StagingDirectory::Create(dir_ / "dist");
    ASSERT_TRUE(staging);
    EXPECT_TRUE(fs::is_directory(staging->Path()));
    EXPECT_NE(staging->Path(), dir_ / "dist");
    ASSERT_TRUE(WriteFile(staging->Path() / "bin" / "gateway", "x"));
  }
  EXPECT_TRUE(Entries().empty());
}

TEST_F(FilesTest, StagingDirectoryWithoutCommitKeepsThePreviousTarget) {
  ASSERT_TRUE(WriteFile(dir_ / "dist" / "old.txt", "previous build"));
  {
    auto staging = StagingDirectory::Create(dir_ / "dist");
    ASSERT_TRUE(staging);
    ASSERT_TRUE(WriteFile(staging->Path() / "new.txt", "half-written build"));
  }
  EXPECT_EQ(Entries(), (std::vector<std::string>{"dist", "dist/old.txt"}));
  EXPECT_EQ(*ReadFile(dir_ / "dist" / "old.txt"), "previous build");
}

TEST_F(FilesTest, StagingDirectoryCommitReplacesTheWholeTarget) {
  ASSERT_TRUE(WriteFile(dir_ / "dist" / "old.txt", "previous build"));
  auto staging = StagingDirectory::Create(dir_ / "dist");
  ASSERT_TRUE(staging);
  ASSERT_TRUE(WriteFile(staging->Path() / "new.txt", "new build"));
  ASSERT_TRUE(staging->Commit());
  EXPECT_EQ(Entries(), (std::vector<std::string>{"dist", "dist/new.txt"}));
  EXPECT_EQ(*ReadFile(dir_ / "dist" / "new.txt"), "new build");
}

TEST_F(FilesTest, StagingDirectoryCommitCreatesAMissingTargetAndItsParents) {
  auto staging = StagingDirectory::Create(dir_ / "out" / "dist");
  ASSERT_TRUE(staging);
  ASSERT_TRUE(WriteFile(staging->Path() / "f", "1"));
  ASSERT_TRUE(staging->Commit());
  EXPECT_EQ(Entries(), (std::vector<std::string>{"out", "out/dist", "out/dist/f"}));
}

TEST_F(FilesTest, MovedStagingDirectoryIsRemovedOnlyOnce) {
  fs::path staged;
  {
    auto created = StagingDirectory::Create(dir_ / "dist");
    ASSERT_TRUE(created);
    StagingDirectory moved(std::move(*created));
    staged = moved.Path();
    ASSERT_TRUE(WriteFile(moved.Path() / "f", "1"));
    ASSERT_TRUE(moved.Commit());
  }
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_EQ(*ReadFile(dir_ / "dist" / "f"), "1");
}

}  // namespace
}  // namespace mgw::base
