//! `--env FILE`: cloud connection settings in the Supervisely style, for
//! sources and for `--verify`.
//!
//! ```text
//! PROVIDER=s3            # s3, google or azure
//! API_TOKEN=AKIA...:wJalr...
//! BUCKET=my-bucket       # optional: the settings apply to this bucket only
//! AWS_REGION=eu-west-1   # optional: any setting of that provider
//! ```
//!
//! What `API_TOKEN` holds depends on the provider:
//! - `s3`: `ACCESS_KEY_ID:SECRET_ACCESS_KEY`;
//! - `google`: a service-account key, as the path of its JSON file or as
//!   the JSON itself;
//! - `azure`: a shared access signature (SAS) token for the storage account
//!   named by `AZURE_STORAGE_ACCOUNT_NAME` (in the file or the environment).
//!
//! Other lines are the provider's own settings under their environment
//! variable names (`AWS_*`, `GOOGLE_*`, `AZURE_*`, as the README lists).
//! Where the file applies (that provider, and `BUCKET` when given), its
//! settings replace the environment's for that provider entirely, so that
//! credentials from the two never mix.

use std::path::Path;

use object_store::ObjectStoreScheme;
use object_store::aws::AmazonS3ConfigKey;
use object_store::azure::AzureConfigKey;
use object_store::gcp::GoogleConfigKey;
use url::Url;

use crate::records::links::classify;

/// A provider an env file can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    S3,
    Google,
    Azure,
}

impl Provider {
    fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "s3" | "aws" => Some(Provider::S3),
            "google" | "gcs" | "gcp" => Some(Provider::Google),
            "azure" => Some(Provider::Azure),
            _ => None,
        }
    }

    fn serves(self, scheme: &ObjectStoreScheme) -> bool {
        matches!(
            (self, scheme),
            (Provider::S3, ObjectStoreScheme::AmazonS3)
                | (Provider::Google, ObjectStoreScheme::GoogleCloudStorage)
                | (Provider::Azure, ObjectStoreScheme::MicrosoftAzure)
        )
    }

    /// The environment variable prefix of its own settings.
    fn prefix(self) -> &'static str {
        match self {
            Provider::S3 => "AWS_",
            Provider::Google => "GOOGLE_",
            Provider::Azure => "AZURE_",
        }
    }

    /// Whether `key` (lowercased) is one of its settings.
    fn knows(self, key: &str) -> bool {
        match self {
            Provider::S3 => key.parse::<AmazonS3ConfigKey>().is_ok(),
            Provider::Google => key.parse::<GoogleConfigKey>().is_ok(),
            Provider::Azure => key.parse::<AzureConfigKey>().is_ok(),
        }
    }

    /// The settings an `API_TOKEN` stands for.
    fn token_settings(self, token: &str) -> Result<Vec<(String, String)>, String> {
        let setting = |key: &str, value: &str| (key.to_string(), value.to_string());
        Ok(match self {
            Provider::S3 => {
                let (id, secret) = token.split_once(':').ok_or(
                    "for s3, API_TOKEN is ACCESS_KEY_ID:SECRET_ACCESS_KEY (a colon between them)",
                )?;
                vec![
                    setting("aws_access_key_id", id),
                    setting("aws_secret_access_key", secret),
                ]
            }
            Provider::Google if token.trim_start().starts_with('{') => {
                vec![setting("google_service_account_key", token)]
            }
            Provider::Google => vec![setting("google_service_account", token)],
            Provider::Azure => vec![setting("azure_storage_sas_key", token)],
        })
    }
}

/// The settings of an env file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EnvFile {
    provider: Provider,
    bucket: Option<String>,
    /// Configuration keys (lowercased variable names) and values.
    settings: Vec<(String, String)>,
}

/// Cloud settings beyond the environment's: none, or an env file's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudSettings {
    env_file: Option<EnvFile>,
}

/// A problem with an env file, with its line when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", line.map(|n| format!(":{n}")).unwrap_or_default())]
pub struct SettingsError {
    file: String,
    line: Option<usize>,
    message: String,
}

impl CloudSettings {
    /// Reads a Supervisely-style env file (see the module docs).
    pub fn from_env_file(path: &Path) -> Result<Self, SettingsError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| SettingsError {
            file: file.clone(),
            line: None,
            message: format!("cannot read it: {e}"),
        })?;
        let error = |key: Option<&str>, message: String| SettingsError {
            file: file.clone(),
            line: key.and_then(|key| line_of(&text, key)),
            message,
        };
        let mut entries = Vec::new();
        for entry in dotenvy::from_read_iter(text.as_bytes()) {
            entries.push(entry.map_err(|e| match e {
                // The line itself may hold a secret: it is not repeated.
                dotenvy::Error::LineParse(line, _) => SettingsError {
                    file: file.clone(),
                    line: text.lines().position(|l| l == line).map(|n| n + 1),
                    message: "cannot parse this line (expected NAME=value)".to_string(),
                },
                other => error(None, other.to_string()),
            })?);
        }
        let value = |name: &str| {
            entries
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.clone())
        };
        let provider_name = value("PROVIDER").ok_or_else(|| {
            error(
                None,
                "PROVIDER is missing (s3, google or azure)".to_string(),
            )
        })?;
        let provider = Provider::parse(&provider_name).ok_or_else(|| {
            error(
                Some("PROVIDER"),
                format!("unknown PROVIDER {provider_name:?} (s3, google or azure)"),
            )
        })?;
        let mut settings = Vec::new();
        for (key, value) in &entries {
            match key.as_str() {
                "PROVIDER" | "BUCKET" => {}
                "API_TOKEN" => settings.extend(
                    provider
                        .token_settings(value)
                        .map_err(|message| error(Some(key), message))?,
                ),
                _ if key.starts_with(provider.prefix())
                    && provider.knows(&key.to_ascii_lowercase()) =>
                {
                    settings.push((key.to_ascii_lowercase(), value.clone()))
                }
                _ => {
                    return Err(error(
                        Some(key),
                        format!(
                            "unknown setting {key} for provider {provider_name} \
                             (PROVIDER, API_TOKEN, BUCKET or one of its {}* settings)",
                            provider.prefix()
                        ),
                    ));
                }
            }
        }
        Ok(CloudSettings {
            env_file: Some(EnvFile {
                provider,
                bucket: value("BUCKET").filter(|bucket| !bucket.is_empty()),
                settings,
            }),
        })
    }

    /// The settings that replace the environment's for a store of `scheme`
    /// reached through `url`; `None` where the environment's apply.
    pub(crate) fn settings_for(
        &self,
        scheme: &ObjectStoreScheme,
        url: &Url,
    ) -> Option<&[(String, String)]> {
        match &self.env_file {
            Some(file)
                if file.provider.serves(scheme)
                    && file
                        .bucket
                        .as_deref()
                        .is_none_or(|bucket| in_bucket(url, bucket)) =>
            {
                Some(&file.settings)
            }
            _ => None,
        }
    }
}

/// Whether `url` names an object or prefix of `bucket`, as the link
/// classifier reads its bucket (`s3://bucket/…`, the https spellings).
fn in_bucket(url: &Url, bucket: &str) -> bool {
    classify(url.as_str())
        .and_then(|location| location.bucket)
        .as_deref()
        == Some(bucket)
}

/// The 1-based line where `key` is set.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|n| n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<CloudSettings, SettingsError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloud.env");
        std::fs::write(&path, text).unwrap();
        CloudSettings::from_env_file(&path)
    }

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn an_s3_token_is_a_key_pair_for_its_bucket() {
        let settings = read(
            "# .env file\nPROVIDER=s3\nAPI_TOKEN=AKID:secret\nBUCKET=media\nAWS_REGION=eu-west-1\n",
        )
        .unwrap();
        let expected = [
            ("aws_access_key_id", "AKID"),
            ("aws_secret_access_key", "secret"),
            ("aws_region", "eu-west-1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let s3 = ObjectStoreScheme::AmazonS3;
        assert_eq!(
            settings.settings_for(&s3, &url("s3://media/a.jpg")),
            Some(&expected[..])
        );
        assert_eq!(
            settings.settings_for(&s3, &url("https://media.s3.amazonaws.com/a.jpg")),
            Some(&expected[..])
        );
        // Not another bucket that merely looks alike.
        for other in ["s3://other/media/a.jpg", "s3://media.backup/a.jpg"] {
            assert_eq!(settings.settings_for(&s3, &url(other)), None, "{other}");
        }
        let gcs = ObjectStoreScheme::GoogleCloudStorage;
        assert_eq!(settings.settings_for(&gcs, &url("gs://media/a.jpg")), None);
    }

    #[test]
    fn google_and_azure_tokens() {
        let google = read("PROVIDER=google\nAPI_TOKEN=/keys/sa.json\n").unwrap();
        let gcs = ObjectStoreScheme::GoogleCloudStorage;
        assert_eq!(
            google.settings_for(&gcs, &url("gs://any/x")).unwrap(),
            [(
                "google_service_account".to_string(),
                "/keys/sa.json".to_string()
            )]
        );
        let inline =
            read("PROVIDER=google\nAPI_TOKEN='{\"type\": \"service_account\"}'\n").unwrap();
        assert_eq!(
            inline.settings_for(&gcs, &url("gs://any/x")).unwrap()[0].0,
            "google_service_account_key"
        );
        let azure =
            read("PROVIDER=azure\nAPI_TOKEN=sv=2024&sig=abc\nAZURE_STORAGE_ACCOUNT_NAME=acct\n")
                .unwrap();
        let settings = azure
            .settings_for(&ObjectStoreScheme::MicrosoftAzure, &url("az://c/x"))
            .unwrap();
        assert_eq!(
            settings[0],
            ("azure_storage_sas_key".into(), "sv=2024&sig=abc".into())
        );
        assert_eq!(
            settings[1],
            ("azure_storage_account_name".into(), "acct".into())
        );
    }

    #[test]
    fn mistakes_name_the_file_and_line() {
        let message = |text: &str| read(text).unwrap_err().to_string();
        assert!(
            message("BUCKET=b\n").ends_with("cloud.env: PROVIDER is missing (s3, google or azure)")
        );
        assert!(
            message("# x\nPROVIDER=dropbox\n")
                .contains("cloud.env:2: unknown PROVIDER \"dropbox\"")
        );
        assert!(
            message("PROVIDER=s3\nAPI_TOKEN=nocolon\n")
                .contains("cloud.env:2: for s3, API_TOKEN is")
        );
        assert!(
            message("PROVIDER=s3\nAWS_NONSENSE=1\n")
                .contains("cloud.env:2: unknown setting AWS_NONSENSE")
        );
        assert!(
            message("PROVIDER=s3\nGOOGLE_BASE_URL=x\n").contains("cloud.env:2: unknown setting")
        );
        let unparsed = message("PROVIDER=s3\nAPI_TOKEN AKID:secret\n");
        assert!(unparsed.contains("cloud.env:2: cannot parse"), "{unparsed}");
        assert!(!unparsed.contains("secret"), "{unparsed}");
    }
}
