// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/dialogs.h"

#include "server/protocol/agentdefinition.h"
#include "server/protocol/json.h"
#include "server/protocol/protocol.h"
#include "server/protocol/secretfile.h"
#include "ui/colors.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QCoreApplication>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>
#include <array>

namespace {

QLabel* makeErrorLabel(QWidget* parent)
{
    auto* label = new QLabel(parent);
    label->setObjectName(QStringLiteral("errorLabel"));
    label->setWordWrap(true);
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, Colors::error(Colors::isDark(palette)));
    label->setPalette(palette);
    label->hide();
    return label;
}

void showError(QLabel* label, const QString& text)
{
    label->setText(text);
    label->setVisible(!text.isEmpty());
}

/// Text in a colour of its own (a warning, a failure), whatever the palette.
void setTextColor(QLabel* label, const QColor& color)
{
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, color);
    label->setPalette(palette);
}

QLabel* makeHint(const QString& text, QWidget* parent)
{
    auto* hint = new QLabel(text, parent);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    return hint;
}

QString idRule()
{
    return QCoreApplication::translate("Dialogs", "The id is 1 to 64 letters, digits, dots, underscores or dashes.");
}

QDialogButtonBox* addButtons(QDialog* dialog, QVBoxLayout* layout, const QString& okText)
{
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, dialog);
    buttons->button(QDialogButtonBox::Ok)->setText(okText);
    QObject::connect(buttons, &QDialogButtonBox::accepted, dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, dialog, &QDialog::reject);
    layout->addWidget(buttons);
    return buttons;
}

QLineEdit* makeLineEdit(const QString& name, const QString& placeholder, QWidget* parent)
{
    auto* edit = new QLineEdit(parent);
    edit->setObjectName(name);
    edit->setPlaceholderText(placeholder);
    return edit;
}

} // namespace

// --- ConnectHostDialog -------------------------------------------------------

ConnectHostDialog::ConnectHostDialog(QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Connect to Host"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_url = makeLineEdit(QStringLiteral("hostUrl"), QStringLiteral("wss://bots.example.org:7700/"), this);
    m_token = makeLineEdit(QStringLiteral("hostToken"), tr("the host's viewer token"), this);
    m_token->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    auto* tokenFileRow = new QHBoxLayout;
    m_tokenFile = makeLineEdit(QStringLiteral("hostTokenFile"), tr("or a file holding it (owner-only)"), this);
    auto* browseToken = new QPushButton(tr("Browse…"), this);
    connect(browseToken, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Token File"));
        if (!path.isEmpty())
            m_tokenFile->setText(path);
    });
    tokenFileRow->addWidget(m_tokenFile, 1);
    tokenFileRow->addWidget(browseToken);
    connect(m_tokenFile, &QLineEdit::textChanged, this,
            [this](const QString& path) { m_token->setEnabled(path.trimmed().isEmpty()); });
    form->addRow(tr("Address:"), m_url);
    form->addRow(tr("Token:"), m_token);
    form->addRow(tr("Token file:"), tokenFileRow);
    layout->addLayout(form);

    m_tlsBox = new QWidget(this);
    auto* tlsForm = new QFormLayout(m_tlsBox);
    tlsForm->setContentsMargins(0, 0, 0, 0);
    m_pin = makeLineEdit(QStringLiteral("hostPin"), tr("optional: accept exactly this certificate"), m_tlsBox);
    auto* caRow = new QHBoxLayout;
    m_caFile = makeLineEdit(QStringLiteral("hostCaFile"), tr("optional: extra trusted CA (PEM)"), m_tlsBox);
    auto* browse = new QPushButton(tr("Browse…"), m_tlsBox);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Trusted Certificates"), QString(),
                                                          tr("Certificates (*.pem *.crt);;All files (*)"));
        if (!path.isEmpty())
            m_caFile->setText(path);
    });
    caRow->addWidget(m_caFile, 1);
    caRow->addWidget(browse);
    tlsForm->addRow(tr("Certificate SHA-256:"), m_pin);
    tlsForm->addRow(tr("CA certificates:"), caRow);
    layout->addWidget(m_tlsBox);

    auto* hint = new QLabel(tr("wss:// addresses are verified against the system's certificates unless a "
                               "SHA-256 fingerprint is pinned. The host's connection is retried until it answers."),
                            this);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(hint);
    m_error = makeErrorLabel(this);
    layout->addWidget(m_error);
    addButtons(this, layout, tr("Connect"));
    connect(m_url, &QLineEdit::textChanged, this, &ConnectHostDialog::updateTls);
    updateTls();
    resize(520, sizeHint().height());
}

void ConnectHostDialog::updateTls()
{
    m_tlsBox->setEnabled(m_url->text().trimmed().startsWith(QLatin1String("wss://"), Qt::CaseInsensitive));
}

HostEntry ConnectHostDialog::entry() const
{
    HostEntry entry;
    entry.url = QUrl(m_url->text().trimmed());
    entry.tokenFile = m_tokenFile->text().trimmed();
    if (entry.tokenFile.isEmpty())
        entry.token = m_token->text();
    if (m_tlsBox->isEnabled()) {
        entry.pinnedSha256 = m_pin->text().remove(QLatin1Char(':')).remove(QLatin1Char(' ')).toLower();
        entry.caFile = m_caFile->text().trimmed();
    }
    return entry;
}

void ConnectHostDialog::setEntry(const HostEntry& entry, bool editing)
{
    if (editing) {
        setWindowTitle(tr("Edit Host"));
        if (auto* buttons = findChild<QDialogButtonBox*>())
            buttons->button(QDialogButtonBox::Ok)->setText(tr("Save and Reconnect"));
    }
    m_url->setText(entry.url.toString());
    m_token->setText(entry.token);
    m_tokenFile->setText(entry.tokenFile);
    m_pin->setText(entry.pinnedSha256);
    m_caFile->setText(entry.caFile);
}

void ConnectHostDialog::accept()
{
    const HostEntry e = entry();
    const QString scheme = e.url.scheme();
    if (!e.url.isValid() || (scheme != QLatin1String("ws") && scheme != QLatin1String("wss"))
        || e.url.host().isEmpty()) {
        showError(m_error, tr("The address must look like ws://host:port/ or wss://host:port/."));
        return;
    }
    static const QRegularExpression hex(QStringLiteral("^[0-9a-f]{64}$"));
    if (!e.pinnedSha256.isEmpty() && !hex.match(e.pinnedSha256).hasMatch()) {
        showError(m_error, tr("A SHA-256 fingerprint has 64 hexadecimal digits (colons allowed)."));
        return;
    }
    QByteArray secret;
    QString problem;
    if (!e.tokenFile.isEmpty() && !SecretFile::read(e.tokenFile, &secret, &problem)) {
        showError(m_error, problem);
        return;
    }
    if (!e.caFile.isEmpty() && !QFileInfo::exists(e.caFile)) {
        showError(m_error, tr("%1 does not exist.").arg(e.caFile));
        return;
    }
    QDialog::accept();
}

// --- AgentDialog -------------------------------------------------------------

AgentDialog::AgentDialog(QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Add Local Agent"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_id = makeLineEdit(QStringLiteral("agentId"), tr("letters, digits, . _ - (e.g. query)"), this);
    m_name = makeLineEdit(QStringLiteral("agentName"), tr("optional display name"), this);
    m_command = makeLineEdit(QStringLiteral("agentCommand"), QStringLiteral("/usr/bin/python3"), this);
    m_args = makeLineEdit(QStringLiteral("agentArgs"), QStringLiteral("bot.py --verbose"), this);
    auto* cwdRow = new QHBoxLayout;
    m_cwd = makeLineEdit(QStringLiteral("agentCwd"), tr("the host's directory"), this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("Working Directory"), m_cwd->text());
        if (!path.isEmpty())
            m_cwd->setText(path);
    });
    cwdRow->addWidget(m_cwd, 1);
    cwdRow->addWidget(browse);
    m_env = new QPlainTextEdit(this);
    m_env->setObjectName(QStringLiteral("agentEnv"));
    m_env->setPlaceholderText(QStringLiteral("PYTHONUNBUFFERED=1\nLOG_LEVEL=debug"));
    m_env->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_env->setFixedHeight(m_env->fontMetrics().lineSpacing() * 4 + 12);
    m_restart = new QComboBox(this);
    m_restart->setObjectName(QStringLiteral("agentRestart"));
    m_restart->addItem(tr("When it fails (exit code not 0)"), int(AgentDefinition::Restart::Unexpected));
    m_restart->addItem(tr("Always"), int(AgentDefinition::Restart::Always));
    m_restart->addItem(tr("Never"), int(AgentDefinition::Restart::Never));
    m_autostart = new QCheckBox(tr("Start with the host"), this);
    m_autostart->setObjectName(QStringLiteral("agentAutostart"));
    m_autostart->setChecked(true);
    form->addRow(tr("Id:"), m_id);
    form->addRow(tr("Name:"), m_name);
    form->addRow(tr("Command:"), m_command);
    form->addRow(tr("Arguments:"), m_args);
    form->addRow(tr("Directory:"), cwdRow);
    form->addRow(tr("Environment:"), m_env);
    form->addRow(tr("Restart:"), m_restart);
    form->addRow(QString(), m_autostart);
    layout->addLayout(form);
    m_error = makeErrorLabel(this);
    layout->addWidget(m_error);
    addButtons(this, layout, tr("Save"));
    resize(560, sizeHint().height());
}

void AgentDialog::setDefinition(const QByteArray& json)
{
    Json::Document document;
    AgentDefinition d;
    QString error;
    if (!document.parse(json) || !AgentDefinition::fromJson(document.root(), QString(), &d, &error))
        return;
    m_original = json;
    setWindowTitle(tr("Edit Agent %1").arg(QString::fromLatin1(d.id)));
    m_id->setText(QString::fromLatin1(d.id));
    m_id->setReadOnly(true);
    m_name->setText(d.name == QString::fromLatin1(d.id) ? QString() : d.name);
    m_command->setText(d.command);
    QStringList quoted;
    for (const QString& arg : d.args)
        quoted << (arg.contains(QLatin1Char(' ')) || arg.isEmpty() ? QLatin1Char('"') + arg + QLatin1Char('"') : arg);
    m_args->setText(quoted.join(QLatin1Char(' ')));
    m_cwd->setText(d.cwd);
    QStringList env;
    for (const auto& [key, value] : d.env)
        env << key + QLatin1Char('=') + value;
    m_env->setPlainText(env.join(QLatin1Char('\n')));
    m_restart->setCurrentIndex(m_restart->findData(int(d.autorestart)));
    m_autostart->setChecked(d.autostart);
}

QString AgentDialog::agentId() const
{
    return m_id->text().trimmed();
}

QByteArray AgentDialog::definition() const
{
    AgentDefinition d;
    if (!m_original.isEmpty()) {
        Json::Document document;
        QString error;
        if (document.parse(m_original))
            AgentDefinition::fromJson(document.root(), QString(), &d, &error);
    }
    d.id = agentId().toLatin1();
    d.name = m_name->text().trimmed();
    d.command = m_command->text().trimmed();
    d.args = QProcess::splitCommand(m_args->text());
    d.cwd = m_cwd->text().trimmed();
    d.env.clear();
    const QStringList lines = m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString& line : lines) {
        const qsizetype eq = line.indexOf(QLatin1Char('='));
        if (eq > 0)
            d.env.emplace_back(line.left(eq).trimmed(), line.mid(eq + 1));
    }
    d.autorestart = AgentDefinition::Restart(m_restart->currentData().toInt());
    d.autostart = m_autostart->isChecked();
    return d.toJson();
}

void AgentDialog::accept()
{
    if (!Protocol::isValidAgentId(agentId().toLatin1())) {
        showError(m_error, idRule());
        return;
    }
    if (m_command->text().trimmed().isEmpty()) {
        showError(m_error, tr("The command is the program to run, e.g. /usr/bin/python3."));
        return;
    }
    const QStringList lines = m_env->toPlainText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (const QString& line : lines) {
        if (!line.trimmed().isEmpty() && line.indexOf(QLatin1Char('=')) <= 0) {
            showError(m_error, tr("Environment lines are NAME=value: \"%1\"").arg(line));
            return;
        }
    }
    QDialog::accept();
}

// --- ConnectBotDialog --------------------------------------------------------

ConnectBotDialog::ConnectBotDialog(const QUrl& url, const QString& token, const QString& tokenPath, QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Connect a Bot"));
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(tr("Bots on this computer connect to AgentDeck's own host. Give them this address and "
                                "token; they appear in the agent list as soon as they say hello."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* form = new QFormLayout;
    const auto addCopyRow = [&](const QString& label, const QString& name, const QString& value) {
        auto* row = new QHBoxLayout;
        auto* field = new QLineEdit(value, this);
        field->setObjectName(name);
        field->setReadOnly(true);
        auto* copy = new QPushButton(tr("Copy"), this);
        copy->setObjectName(name + QStringLiteral("Copy"));
        connect(copy, &QPushButton::clicked, this, [value] { QApplication::clipboard()->setText(value); });
        row->addWidget(field, 1);
        row->addWidget(copy);
        form->addRow(label, row);
    };
    addCopyRow(tr("Address:"), QStringLiteral("botUrl"), url.toString());
    addCopyRow(tr("Token:"), QStringLiteral("botToken"), token);
    if (!tokenPath.isEmpty()) {
        auto* path = new QLabel(tr("kept in %1").arg(tokenPath), this);
        path->setForegroundRole(QPalette::PlaceholderText);
        path->setTextInteractionFlags(Qt::TextSelectableByMouse);
        form->addRow(QString(), path);
    }
    layout->addLayout(form);

    layout->addWidget(new QLabel(tr("Python (with the websockets package):"), this));
    auto* snippet = new QPlainTextEdit(pythonSnippet(url, token), this);
    snippet->setObjectName(QStringLiteral("snippet"));
    snippet->setReadOnly(true);
    snippet->setLineWrapMode(QPlainTextEdit::NoWrap);
    snippet->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    layout->addWidget(snippet, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* copy = buttons->addButton(tr("Copy Snippet"), QDialogButtonBox::ActionRole);
    copy->setObjectName(QStringLiteral("copySnippet"));
    connect(copy, &QPushButton::clicked, this,
            [snippet] { QApplication::clipboard()->setText(snippet->toPlainText()); });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(680, 560);
}

QString ConnectBotDialog::pythonSnippet(const QUrl& url, const QString& token)
{
    return QStringLiteral(
               "import asyncio, json, websockets\n"
               "\n"
               "async def main():\n"
               "    async with websockets.connect(\"%1\") as ws:\n"
               "        await ws.send(json.dumps({\n"
               "            \"type\": \"hello\", \"protocol\": 1, \"role\": \"agent\", \"token\": \"%2\",\n"
               "            \"agent\": {\"id\": \"my-bot\", \"name\": \"My Bot\",\n"
               "                      \"commands\": [{\"name\": \"ping\", \"help\": \"answers pong\"}]}}))\n"
               "        print(await ws.recv())  # welcome\n"
               "        await ws.send(json.dumps({\"type\": \"log\", \"lines\": [\n"
               "            {\"level\": \"INFO\", \"source\": \"my_bot\", \"text\": \"hello from my bot\"}]}))\n"
               "        async for message in ws:  # commands typed in AgentDeck\n"
               "            command = json.loads(message)\n"
               "            if command.get(\"type\") == \"command\":\n"
               "                await ws.send(json.dumps({\"type\": \"result\", \"id\": command[\"id\"],\n"
               "                                          \"ok\": True, \"text\": \"pong\"}))\n"
               "\n"
               "asyncio.run(main())\n")
        .arg(url.toString(), token);
}

// --- FollowFileDialog --------------------------------------------------------

namespace {

struct FollowFormat
{
    const char* name;
    const char* help;
};

const FollowFormat FollowFormats[] = {
    {"plain",
     QT_TRANSLATE_NOOP("Dialogs", "Any text: each line as written, its level guessed as for a launched agent.")},
    {"bettafish-app",
     QT_TRANSLATE_NOOP("Dialogs", "A BettaFish app's log: \"[HH:MM:SS] \" before each line, levels from loguru.")},
    {"bettafish-forum",
     QT_TRANSLATE_NOOP("Dialogs", "BettaFish's forum.log: \"[HH:MM:SS] [SOURCE] body\", shown in the Forum.")},
    {"jsonl", QT_TRANSLATE_NOOP("Dialogs", "One JSON object a line: time or ts, level, msg or message, logger.")},
};

} // namespace

FollowFileDialog::FollowFileDialog(const QStringList& takenIds, QWidget* parent)
    : QDialog(parent)
    , m_taken(takenIds)
{
    setWindowTitle(tr("Follow a Log File"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(makeHint(tr("The file's lines become an agent's console, as tail -F reads them: it is read "
                                  "again when it is rotated or truncated."),
                               this));
    layout->addSpacing(4);
    auto* form = new QFormLayout;
    m_id = makeLineEdit(QStringLiteral("followId"), tr("letters, digits, . _ - (e.g. crawler-log)"), this);
    m_name = makeLineEdit(QStringLiteral("followName"), tr("optional display name"), this);
    auto* pathRow = new QHBoxLayout;
    m_path = makeLineEdit(QStringLiteral("followPath"), tr("the log file a bot writes"), this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    browse->setObjectName(QStringLiteral("followBrowse"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Log File"), QFileInfo(m_path->text()).path(),
                                                          tr("Logs (*.log *.txt *.jsonl);;All files (*)"));
        if (!path.isEmpty())
            m_path->setText(path);
    });
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    m_format = new QComboBox(this);
    m_format->setObjectName(QStringLiteral("followFormat"));
    for (const FollowFormat& format : FollowFormats)
        m_format->addItem(QLatin1String(format.name), QByteArray(format.name));
    m_formatHint = makeHint(QString(), this);
    m_formatHint->setObjectName(QStringLiteral("followFormatHint"));
    connect(m_format, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_formatHint->setText(index >= 0 ? QCoreApplication::translate("Dialogs", FollowFormats[index].help)
                                         : QString());
    });
    m_formatHint->setText(QCoreApplication::translate("Dialogs", FollowFormats[0].help));
    m_history = new QSpinBox(this);
    m_history->setObjectName(QStringLiteral("followHistory"));
    m_history->setRange(0, 1000000);
    m_history->setSingleStep(100);
    m_history->setValue(1000);
    m_history->setSuffix(tr(" lines"));
    m_history->setToolTip(tr("How much of what the file already holds is taken in as history on the first start"));
    form->addRow(tr("Id:"), m_id);
    form->addRow(tr("Name:"), m_name);
    form->addRow(tr("File:"), pathRow);
    form->addRow(tr("Format:"), m_format);
    form->addRow(QString(), m_formatHint);
    form->addRow(tr("History:"), m_history);
    layout->addLayout(form);

    m_missing = new QLabel(this);
    m_missing->setObjectName(QStringLiteral("followMissing"));
    m_missing->setWordWrap(true);
    setTextColor(m_missing, Colors::level(LogLevel::Warning, Colors::isDark(palette())));
    m_missing->hide();
    layout->addWidget(m_missing);
    m_waitForFile = new QCheckBox(tr("Follow it once it appears"), this);
    m_waitForFile->setObjectName(QStringLiteral("followWaitForFile"));
    m_waitForFile->hide();
    layout->addWidget(m_waitForFile);
    m_error = makeErrorLabel(this);
    layout->addWidget(m_error);
    addButtons(this, layout, tr("Follow"));
    connect(m_path, &QLineEdit::textChanged, this, &FollowFileDialog::checkPath);
    connect(m_path, &QLineEdit::textChanged, this, [this] { showError(m_error, QString()); });
    connect(m_id, &QLineEdit::textChanged, this, [this] { showError(m_error, QString()); });
    resize(560, sizeHint().height());
}

QString FollowFileDialog::agentId() const
{
    return m_id->text().trimmed();
}

QByteArray FollowFileDialog::definition() const
{
    AgentDefinition d;
    d.id = agentId().toLatin1();
    d.name = m_name->text().trimmed();
    AgentDefinition::Follow follow;
    follow.path = QDir::cleanPath(m_path->text().trimmed());
    follow.format = m_format->currentData().toByteArray();
    follow.historyLines = m_history->value();
    d.follow = follow;
    return d.toJson();
}

void FollowFileDialog::checkPath()
{
    const QString path = m_path->text().trimmed();
    const bool missing = !path.isEmpty() && !QFileInfo::exists(path);
    m_missing->setText(missing ? tr("%1 does not exist yet.").arg(path) : QString());
    m_missing->setVisible(missing);
    m_waitForFile->setVisible(missing);
    if (!missing)
        m_waitForFile->setChecked(false);
}

void FollowFileDialog::accept()
{
    const QString id = agentId();
    if (!Protocol::isValidAgentId(id.toLatin1())) {
        showError(m_error, idRule());
        return;
    }
    if (m_taken.contains(id)) {
        showError(m_error, tr("The host already has an agent \"%1\": choose another id.").arg(id));
        return;
    }
    const QString path = m_path->text().trimmed();
    if (path.isEmpty()) {
        showError(m_error, tr("Choose the file to follow."));
        return;
    }
    if (QDir::isRelativePath(path)) {
        showError(m_error,
                  tr("The file's path must be absolute: the host does not read it from this window's "
                     "directory."));
        return;
    }
    const QFileInfo file(path);
    if (file.exists()) {
        QFile probe(path);
        if (file.isDir()) {
            showError(m_error, tr("%1 is a folder, not a file.").arg(path));
            return;
        }
        if (!probe.open(QIODevice::ReadOnly)) {
            showError(m_error, tr("%1 cannot be read: %2").arg(path, probe.errorString()));
            return;
        }
    } else {
        checkPath();
        if (!m_waitForFile->isChecked()) {
            showError(m_error, tr("Tick \"Follow it once it appears\" to follow a file that is not there yet."));
            return;
        }
    }
    showError(m_error, QString());
    QDialog::accept();
}

// --- BettaFishDialog ---------------------------------------------------------

namespace {

constexpr std::array<const char*, 4> BettaFishApps = {"insight", "media", "query", "forum"};

} // namespace

BettaFishDialog::BettaFishDialog(const QStringList& takenIds, AddBridge add, QWidget* parent)
    : QDialog(parent)
    , m_taken(takenIds)
    , m_add(std::move(add))
{
    setWindowTitle(tr("Add BettaFish"));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(makeHint(tr("The four apps of a BettaFish server (Insight, Media and Query engines, and the "
                                  "forum) become agents of this computer's host, with their consoles, commands "
                                  "and forum messages."),
                               this));
    layout->addSpacing(4);
    auto* form = new QFormLayout;
    m_url = makeLineEdit(QStringLiteral("bettafishUrl"), QStringLiteral("http://127.0.0.1:5000"), this);
    m_url->setText(QStringLiteral("http://127.0.0.1:5000"));
    m_prefix = makeLineEdit(QStringLiteral("bettafishPrefix"), tr("put before each app's agent id"), this);
    m_prefix->setText(QStringLiteral("bf-"));
    auto* logsRow = new QHBoxLayout;
    m_logs =
        makeLineEdit(QStringLiteral("bettafishLogs"), tr("optional: its logs folder, when on this computer"), this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    browse->setObjectName(QStringLiteral("bettafishBrowse"));
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getExistingDirectory(this, tr("BettaFish Logs Folder"), m_logs->text());
        if (!path.isEmpty())
            m_logs->setText(path);
    });
    logsRow->addWidget(m_logs, 1);
    logsRow->addWidget(browse);
    auto* prefixHint = makeHint(QString(), this);
    prefixHint->setObjectName(QStringLiteral("bettafishIds"));
    prefixHint->setWordWrap(false);
    const auto showIds = [this, prefixHint] {
        QStringList ids;
        for (const char* app : BettaFishApps)
            ids << m_prefix->text().trimmed() + QLatin1String(app);
        prefixHint->setText(tr("Agents: %1").arg(ids.join(QStringLiteral(", "))));
    };
    connect(m_prefix, &QLineEdit::textChanged, this, showIds);
    showIds();
    form->addRow(tr("Address:"), m_url);
    form->addRow(tr("Prefix:"), m_prefix);
    form->addRow(QString(), prefixHint);
    form->addRow(tr("Logs folder:"), logsRow);
    layout->addLayout(form);

    auto* statusRow = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("bettafishStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* check = new QPushButton(tr("Check Again"), this);
    check->setObjectName(QStringLiteral("bettafishCheck"));
    check->setAutoDefault(false);
    connect(check, &QPushButton::clicked, this, &BettaFishDialog::startCheck);
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(check, 0, Qt::AlignTop);
    layout->addLayout(statusRow);
    m_error = makeErrorLabel(this);
    layout->addWidget(m_error);
    QDialogButtonBox* buttons = addButtons(this, layout, tr("Add"));
    m_ok = buttons->button(QDialogButtonBox::Ok);
    m_ok->setObjectName(QStringLiteral("bettafishAdd"));

    m_http = new QNetworkAccessManager(this);
    m_http->setProxy(QNetworkProxy::NoProxy);
    m_debounce.setSingleShot(true);
    m_debounce.setInterval(400);
    connect(&m_debounce, &QTimer::timeout, this, &BettaFishDialog::startCheck);
    connect(m_url, &QLineEdit::textChanged, this, [this] {
        setState(State::Idle, QString());
        m_debounce.start();
    });
    connect(m_prefix, &QLineEdit::textChanged, this, [this] { showError(m_error, QString()); });
    connect(m_logs, &QLineEdit::textChanged, this, [this] { showError(m_error, QString()); });
    resize(560, sizeHint().height());
    startCheck();
}

BettaFishDialog::~BettaFishDialog()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
    }
}

BettaFishEntry BettaFishDialog::entry() const
{
    BettaFishEntry entry;
    entry.url = m_url->text().trimmed();
    while (entry.url.endsWith(QLatin1Char('/')))
        entry.url.chop(1);
    entry.prefix = m_prefix->text().trimmed();
    entry.logsDir = m_logs->text().trimmed();
    if (!entry.logsDir.isEmpty())
        entry.logsDir = QDir::cleanPath(entry.logsDir);
    return entry;
}

void BettaFishDialog::setState(State state, const QString& text)
{
    m_state = state;
    m_status->setText(text);
    const bool dark = Colors::isDark(palette());
    QColor color = palette().color(QPalette::WindowText);
    if (state == State::Failed)
        color = Colors::error(dark);
    else if (state == State::Checking)
        color = palette().color(QPalette::PlaceholderText);
    setTextColor(m_status, color);
    m_ok->setEnabled(state == State::Reachable);
}

void BettaFishDialog::startCheck()
{
    m_debounce.stop();
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
        m_reply = nullptr;
    }
    const QUrl url(entry().url + QStringLiteral("/api/status"));
    const QString scheme = url.scheme();
    if (!url.isValid() || (scheme != QLatin1String("http") && scheme != QLatin1String("https"))
        || url.host().isEmpty()) {
        setState(State::Failed, tr("The address must look like http://host:port, as BettaFish's page is opened."));
        return;
    }
    setState(State::Checking, tr("Checking %1…").arg(url.toString()));
    QNetworkRequest request(url);
    request.setTransferTimeout(CheckTimeoutMs);
    m_reply = m_http->get(request);
    QNetworkReply* reply = m_reply;
    connect(reply, &QNetworkReply::finished, this, [this, reply] { onReplyFinished(reply); });
}

void BettaFishDialog::onReplyFinished(QNetworkReply* reply)
{
    reply->deleteLater();
    if (reply != m_reply)
        return;
    m_reply = nullptr;
    const QString where = reply->url().toString();
    if (reply->error() != QNetworkReply::NoError) {
        const bool timedOut =
            reply->error() == QNetworkReply::OperationCanceledError || reply->error() == QNetworkReply::TimeoutError;
        const QString why = timedOut ? tr("no answer within %1 s").arg(CheckTimeoutMs / 1000) : reply->errorString();
        setState(State::Failed, tr("No BettaFish at %1: %2").arg(where, why));
        Q_EMIT checked(false);
        return;
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(reply->readAll(), &parseError);
    QStringList missing;
    QStringList states;
    if (document.isObject()) {
        const QJsonObject apps = document.object();
        for (const char* app : BettaFishApps) {
            const QString name = QLatin1String(app);
            if (!apps.contains(name))
                missing << name;
            else if (const QString status = apps.value(name).toObject().value(QStringLiteral("status")).toString();
                     !status.isEmpty())
                states << tr("%1 %2").arg(name, status);
        }
    }
    if (!document.isObject() || !missing.isEmpty()) {
        const QString what = !document.isObject() ? tr("its answer is not a JSON object")
                                                  : tr("its answer has no %1").arg(missing.join(QStringLiteral(", ")));
        setState(State::Failed, tr("%1 does not answer as BettaFish does: %2.").arg(where, what));
        Q_EMIT checked(false);
        return;
    }
    setState(State::Reachable,
             states.isEmpty() ? tr("BettaFish answers.")
                              : tr("BettaFish answers: %1.").arg(states.join(QStringLiteral(", "))));
    Q_EMIT checked(true);
}

QString BettaFishDialog::entryProblem() const
{
    const BettaFishEntry e = entry();
    if (!e.prefix.isEmpty() && !Protocol::isValidAgentId((e.prefix + QStringLiteral("forum")).toLatin1()))
        return tr("The prefix begins agent ids: letters, digits, dots, underscores or dashes.");
    for (const char* app : BettaFishApps) {
        const QString id = e.prefix + QLatin1String(app);
        if (m_taken.contains(id))
            return tr("The host already has an agent \"%1\": choose another prefix.").arg(id);
    }
    if (!e.logsDir.isEmpty()) {
        const QFileInfo logs(e.logsDir);
        if (QDir::isRelativePath(e.logsDir))
            return tr("The logs folder's path must be absolute.");
        if (!logs.exists())
            return tr("%1 does not exist.").arg(e.logsDir);
        if (!logs.isDir())
            return tr("%1 is not a folder.").arg(e.logsDir);
        if (!logs.isReadable() || !logs.isExecutable() || !QDir(e.logsDir).isReadable())
            return tr("%1 cannot be read.").arg(e.logsDir);
    }
    return {};
}

void BettaFishDialog::accept()
{
    if (m_state != State::Reachable) {
        if (m_state != State::Checking && m_state != State::Failed)
            startCheck();
        showError(m_error, tr("The address must answer as a BettaFish server first."));
        return;
    }
    if (const QString problem = entryProblem(); !problem.isEmpty()) {
        showError(m_error, problem);
        return;
    }
    QString why;
    if (m_add && !m_add(entry(), &why)) {
        showError(m_error, tr("The host did not add the bridge: %1").arg(why));
        return;
    }
    showError(m_error, QString());
    QDialog::accept();
}
