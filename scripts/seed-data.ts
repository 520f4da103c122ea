/**
 * The demo tenant's data: word lists and pure generators, no I/O. Every customer and its history
 * are derived from the customer's index through seeded PRNG streams, so customer 17 is the same
 * person with the same contacts on every run and machine, whatever the total and whatever order
 * the seed happens to write in. Only timestamps move: they are placed relative to today
 * (Asia/Shanghai) so the demo always shows the last 90 days.
 */
import type { CustomerTier } from '../src/customers';
import { mulberry32 } from './prng';
import type { Channel, Direction, InteractionStatus, NewEntry } from '../src/interactions';
import type { BusinessHours, TaskType } from '../src/tasks';

export interface DemoUser {
  role: 'admin' | 'supervisor' | 'agent' | 'department';
  email: string;
  password: string;
  name: string;
  /** Department code, for department users. */
  department?: string;
  locale?: 'en' | 'zh-CN';
}

// Published passwords: the seed CLI refuses to run outside demo mode, and config refuses demo mode
// in production, so these can never guard a real tenant.
const agentPassword = 'demo-agent-pass';
const departmentPassword = 'demo-dept-pass';

export const demoDepartments = [
  { code: 'after-sales', name: 'After-sales service' },
  { code: 'parts', name: 'Parts' },
  { code: 'warranty', name: 'Warranty claims' },
  { code: 'dealer-network', name: 'Dealer network' },
  { code: 'finance', name: 'Finance' },
  { code: 'quality', name: 'Quality' },
] as const;
export const demoTimezone = 'Asia/Shanghai';

// Working hours in Shanghai; after-sales also opens Saturday mornings, when owners bring cars in.
const weekday = [{ start: '09:00', end: '18:00' }];
const officeHours: BusinessHours = { weekly: { mon: weekday, tue: weekday, wed: weekday, thu: weekday, fri: weekday }, holidays: ['2026-01-01', '2026-05-01', '2026-10-01'] };
const vinField = { key: 'vin', label: 'VIN', pattern: '[A-HJ-NPR-Z0-9]{17}', required: true };
const templates = (what: string) => ({
  created: `We have passed your ${what} to our {department} team. Your reference is {reference}.`,
  resolved: `Your ${what} {reference} is resolved: {resolution}`,
  verification: `Is your ${what} {reference} solved? Reply YES or NO.`,
});

/** Per department code: business hours and the task types it handles (SLAs in business minutes). */
export const demoDepartmentSetup: Record<(typeof demoDepartments)[number]['code'], { businessHours: BusinessHours; taskTypes: TaskType[] }> = {
  'after-sales': {
    businessHours: { ...officeHours, weekly: { ...officeHours.weekly, sat: [{ start: '09:00', end: '12:00' }] } },
    taskTypes: [
      {
        code: 'repair-follow-up', name: 'Repair follow-up', slaMinutes: 24 * 60, defaultPriority: 'normal',
        fields: [{ ...vinField, required: false }, { key: 'dealer', label: 'Dealer', required: false }],
        checklist: ['Call the dealer workshop', 'Confirm the repair date', 'Tell the agent the outcome'],
        notifyCustomerOnCreate: false, templates: templates('repair question'),
      },
    ],
  },
  parts: {
    businessHours: officeHours,
    taskTypes: [
      {
        code: 'parts-availability', name: 'Parts availability', slaMinutes: 8 * 60, defaultPriority: 'normal',
        fields: [{ key: 'partNumber', label: 'Part number', pattern: '[A-Z0-9][A-Z0-9-]{3,29}', required: true }, { ...vinField, required: false }],
        checklist: ['Check central warehouse stock', 'Check regional warehouses', 'Give a delivery date'],
        notifyCustomerOnCreate: false, templates: templates('parts request'),
      },
    ],
  },
  warranty: {
    businessHours: officeHours,
    taskTypes: [
      {
        code: 'warranty-claim', name: 'Warranty claim', slaMinutes: 48 * 60, defaultPriority: 'normal',
        fields: [vinField, { key: 'mileage', label: 'Mileage (km)', pattern: '\\d{1,7}', required: false }],
        checklist: ['Check the warranty period and mileage', 'Collect the repair order and photos', 'Confirm the diagnosis with the dealer', 'Decide coverage'],
        notifyCustomerOnCreate: true, templates: templates('warranty claim'),
      },
    ],
  },
  'dealer-network': {
    businessHours: officeHours,
    taskTypes: [
      {
        code: 'dealer-complaint', name: 'Dealer complaint', slaMinutes: 16 * 60, defaultPriority: 'high',
        fields: [{ key: 'dealer', label: 'Dealer name or code', required: true }],
        checklist: ['Contact the dealer manager', 'Agree on a remedy', 'Record the outcome'],
        notifyCustomerOnCreate: true, templates: templates('complaint'),
      },
    ],
  },
  finance: {
    businessHours: officeHours,
    taskTypes: [
      {
        code: 'refund', name: 'Refund', slaMinutes: 40 * 60, defaultPriority: 'normal',
        fields: [{ key: 'invoice', label: 'Invoice number', required: true }, { key: 'amount', label: 'Amount (CNY)', pattern: '\\d{1,9}(\\.\\d{1,2})?', required: false }],
        checklist: ['Check the invoice', 'Approve the amount', 'Pay out'],
        notifyCustomerOnCreate: false, templates: templates('refund'),
      },
    ],
  },
  quality: {
    businessHours: officeHours,
    taskTypes: [
      {
        code: 'quality-report', name: 'Quality report', slaMinutes: 48 * 60, defaultPriority: 'high',
        fields: [vinField, { key: 'component', label: 'Component', required: false }],
        checklist: ['Log the defect', 'Check for similar reports', 'Decide on a field action'],
        notifyCustomerOnCreate: false, templates: templates('quality report'),
      },
    ],
  },
};

const demoAgents: readonly DemoUser[] = [
  { role: 'agent', email: 'agent1@demo.switchboard.local', password: agentPassword, name: '王磊', locale: 'zh-CN' },
  { role: 'agent', email: 'agent2@demo.switchboard.local', password: agentPassword, name: 'Emily Zhang' },
  { role: 'agent', email: 'agent3@demo.switchboard.local', password: agentPassword, name: '孙丽', locale: 'zh-CN' },
  { role: 'agent', email: 'agent4@demo.switchboard.local', password: agentPassword, name: 'David Chen' },
  { role: 'agent', email: 'agent5@demo.switchboard.local', password: agentPassword, name: 'Zhou Xin', locale: 'zh-CN' },
  { role: 'agent', email: 'agent6@demo.switchboard.local', password: agentPassword, name: 'Sarah Lin' },
];

export const demoUsers: readonly DemoUser[] = [
  { role: 'admin', email: 'admin@demo.switchboard.local', password: 'demo-admin-pass', name: 'Demo Admin' },
  { role: 'supervisor', email: 'supervisor@demo.switchboard.local', password: 'demo-supervisor-pass', name: 'Liu Yang', locale: 'zh-CN' },
  ...demoAgents,
  ...demoDepartments.map((department) => ({
    role: 'department' as const,
    email: `${department.code}@demo.switchboard.local`,
    password: departmentPassword,
    name: `${department.name} desk`,
    department: department.code,
    locale: department.code === 'after-sales' || department.code === 'quality' ? ('zh-CN' as const) : ('en' as const),
  })),
];

/** Agents in the order the history generator numbers them (`PlannedEvent.author`). */
export const demoAgentEmails = demoAgents.map((agent) => agent.email);

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: one stream per customer and purpose.

export type Random = () => number;

const seedBase = 0xc4e2a7;
export function stream(index: number, purpose: number): Random {
  let h = Math.imul(seedBase ^ index, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16) ^ purpose, 0x85ebca6b);
  return mulberry32(h ^ (h >>> 13));
}

export const int = (rng: Random, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
export const pick = <T>(rng: Random, items: readonly T[]): T => items[Math.floor(rng() * items.length)];
export function weighted<T>(rng: Random, items: readonly (readonly [T, number])[]): T {
  let roll = rng() * items.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [value, weight] of items) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return items[items.length - 1][0];
}

// ---------------------------------------------------------------------------------------------
// Word lists.

export interface Bilingual {
  en: string;
  zh: string;
}

const surnames: readonly Bilingual[] = [
  { en: 'Wang', zh: '王' }, { en: 'Li', zh: '李' }, { en: 'Zhang', zh: '张' }, { en: 'Liu', zh: '刘' },
  { en: 'Chen', zh: '陈' }, { en: 'Yang', zh: '杨' }, { en: 'Huang', zh: '黄' }, { en: 'Zhao', zh: '赵' },
  { en: 'Wu', zh: '吴' }, { en: 'Zhou', zh: '周' }, { en: 'Xu', zh: '徐' }, { en: 'Sun', zh: '孙' },
  { en: 'Ma', zh: '马' }, { en: 'Zhu', zh: '朱' }, { en: 'Hu', zh: '胡' }, { en: 'Guo', zh: '郭' },
  { en: 'He', zh: '何' }, { en: 'Lin', zh: '林' }, { en: 'Gao', zh: '高' }, { en: 'Luo', zh: '罗' },
  { en: 'Zheng', zh: '郑' }, { en: 'Liang', zh: '梁' }, { en: 'Xie', zh: '谢' }, { en: 'Song', zh: '宋' },
  { en: 'Tang', zh: '唐' }, { en: 'Han', zh: '韩' }, { en: 'Feng', zh: '冯' }, { en: 'Deng', zh: '邓' },
  { en: 'Cao', zh: '曹' }, { en: 'Peng', zh: '彭' }, { en: 'Jiang', zh: '蒋' }, { en: 'Tian', zh: '田' },
];

const givenNames: readonly Bilingual[] = [
  { en: 'Wei', zh: '伟' }, { en: 'Fang', zh: '芳' }, { en: 'Na', zh: '娜' }, { en: 'Min', zh: '敏' },
  { en: 'Jing', zh: '静' }, { en: 'Li', zh: '丽' }, { en: 'Qiang', zh: '强' }, { en: 'Lei', zh: '磊' },
  { en: 'Jun', zh: '军' }, { en: 'Yang', zh: '洋' }, { en: 'Yong', zh: '勇' }, { en: 'Yan', zh: '艳' },
  { en: 'Jie', zh: '杰' }, { en: 'Juan', zh: '娟' }, { en: 'Tao', zh: '涛' }, { en: 'Ming', zh: '明' },
  { en: 'Chao', zh: '超' }, { en: 'Xiuying', zh: '秀英' }, { en: 'Xia', zh: '霞' }, { en: 'Ping', zh: '平' },
  { en: 'Gang', zh: '刚' }, { en: 'Hui', zh: '辉' }, { en: 'Hao', zh: '浩' }, { en: 'Yu', zh: '宇' },
  { en: 'Xin', zh: '欣' }, { en: 'Ting', zh: '婷' }, { en: 'Bo', zh: '波' }, { en: 'Kai', zh: '凯' },
  { en: 'Zihan', zh: '子涵' }, { en: 'Haoran', zh: '浩然' }, { en: 'Yuxuan', zh: '雨萱' }, { en: 'Jiahao', zh: '佳豪' },
  { en: 'Xiaoling', zh: '晓玲' }, { en: 'Jianguo', zh: '建国' }, { en: 'Guiying', zh: '桂英' }, { en: 'Zhiqiang', zh: '志强' },
];

const fleetCompanies: readonly string[] = [
  'Anhui Qiyun Logistics Co.', 'Wuhu Lvxing Taxi Co.', 'Nanjing Huitong Car Rental', 'Chengdu Tianfu Ride Services',
  'Hefei Xinyuan Car Rental', 'Hangzhou Qiantang Fleet Services', 'Wuhan Changjiang Express', 'Suzhou Gusu Chauffeur Co.',
];

interface CarModel extends Bilingual {
  /** VIN positions 4-8 (vehicle descriptor), invented per model. */
  vds: string;
  years: readonly [number, number];
  weight: number;
  premium?: boolean;
}

const carModels: readonly CarModel[] = [
  { en: 'Tiggo 7 Pro', zh: '瑞虎7 PRO', vds: 'DB21B', years: [2020, 2026], weight: 22 },
  { en: 'Tiggo 8 Pro', zh: '瑞虎8 PRO', vds: 'DB31C', years: [2021, 2026], weight: 18 },
  { en: 'Tiggo 5x', zh: '瑞虎5x', vds: 'DA11A', years: [2019, 2024], weight: 8 },
  { en: 'Arrizo 8', zh: '艾瑞泽8', vds: 'FE41D', years: [2022, 2026], weight: 14 },
  { en: 'Arrizo 5 Plus', zh: '艾瑞泽5 PLUS', vds: 'FA21B', years: [2019, 2024], weight: 10 },
  { en: 'Omoda 5', zh: 'OMODA 5', vds: 'GJ51E', years: [2022, 2026], weight: 9 },
  { en: 'Exeed TXL', zh: '星途TXL', vds: 'HM61F', years: [2019, 2025], weight: 6, premium: true },
  { en: 'Exeed VX', zh: '星途VX', vds: 'HM71G', years: [2021, 2026], weight: 5, premium: true },
  { en: 'Jaecoo 7', zh: 'JAECOO 7', vds: 'JC71H', years: [2023, 2026], weight: 5 },
  { en: 'eQ1 Little Ant', zh: '小蚂蚁', vds: 'EV11K', years: [2019, 2025], weight: 3 },
];

const dealers: readonly Bilingual[] = [
  { en: 'Wuhu Chery 4S Store', zh: '芜湖奇瑞4S店' },
  { en: 'Shanghai Pudong Dealer', zh: '上海浦东经销店' },
  { en: 'Beijing Chaoyang Chery 4S Store', zh: '北京朝阳奇瑞4S店' },
  { en: 'Hefei Baohe Service Center', zh: '合肥包河服务中心' },
  { en: 'Guangzhou Tianhe Chery 4S Store', zh: '广州天河奇瑞4S店' },
  { en: 'Shenzhen Nanshan Dealer', zh: '深圳南山经销店' },
  { en: 'Chengdu Wuhou Chery 4S Store', zh: '成都武侯奇瑞4S店' },
  { en: 'Hangzhou Xiaoshan Dealer', zh: '杭州萧山经销店' },
  { en: 'Nanjing Jiangning Service Center', zh: '南京江宁服务中心' },
  { en: 'Wuhan Hankou Chery 4S Store', zh: '武汉汉口奇瑞4S店' },
  { en: "Xi'an Yanta Dealer", zh: '西安雁塔经销店' },
  { en: 'Suzhou Industrial Park Dealer', zh: '苏州工业园区经销店' },
];

// Mobile prefixes in service in mainland China (China Mobile, Unicom, Telecom, Broadnet).
const mobilePrefixes = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155', '156', '157', '158', '159', '166', '176', '177', '180', '181', '182', '183', '185', '186', '187', '188', '189', '191', '198', '199'];
// Reserved documentation domains (RFC 2606), so a demo that sends email never reaches a real person.
const emailDomains = ['example.com', 'example.net', 'example.org'];

/** One reason to contact the service center; its texts carry {model}, {dealer}, {year}, {vin} and {date}. */
export interface Topic {
  title: string;
  subject: Bilingual;
  ask: Bilingual;
  answer: Bilingual;
  note: Bilingual;
  weight: number;
  /** The customer will bring the car in, so a follow-up may be about the visit. */
  visit?: boolean;
}

export const topics = {
  gearbox: {
    title: 'Warranty claim: gearbox noise',
    subject: { en: 'Warranty claim for a noisy gearbox', zh: '保修申请：变速箱异响' },
    ask: {
      en: 'My {year} {model} makes a whining noise from the gearbox between 40 and 60 km/h, worse when the engine is cold. The car is still under warranty. Can I file a claim at {dealer}? VIN {vin}.',
      zh: '我的{year}款{model}在时速40到60公里之间变速箱有呜呜的异响，冷车时更明显。车还在保修期内，请问可以在{dealer}申请保修吗？车架号{vin}。',
    },
    answer: {
      en: 'Thank you for reporting this. Please book a gearbox inspection at {dealer} and bring your service booklet; if the technician confirms the noise we will open a warranty claim for you.',
      zh: '感谢您的反馈。请到{dealer}预约变速箱检测，并携带保养手册；技师确认异响后，我们会为您提交保修申请。',
    },
    note: {
      en: 'Gearbox whine at 40-60 km/h reported. Advised inspection at dealer; warranty claim to be opened after diagnosis.',
      zh: '客户反映变速箱在40-60公里时速有异响，已建议到店检测，诊断后提交保修申请。',
    },
    weight: 11,
    visit: true,
  },
  windshield: {
    title: 'Parts availability: windshield',
    subject: { en: 'Parts availability: front windshield for my {model}', zh: '配件咨询：{model}前挡风玻璃' },
    ask: {
      en: 'A stone cracked the front windshield of my {year} {model}. Is an original windshield with the rain sensor bracket in stock, and how long is the wait?',
      zh: '我的{year}款{model}前挡风玻璃被石子打裂了，请问带雨量传感器支架的原厂玻璃有货吗？需要等多久？',
    },
    answer: {
      en: 'The windshield with the rain sensor bracket ships from the regional warehouse in 3 to 5 working days; {dealer} will call you to fit it once it arrives.',
      zh: '带雨量传感器支架的前挡风玻璃由区域仓库发货，3到5个工作日到店，到货后{dealer}会联系您安装。',
    },
    note: {
      en: 'Cracked windshield. Regional warehouse has stock, ETA 3-5 working days; parts to confirm the order with the dealer.',
      zh: '前挡风玻璃破裂，区域仓库有货，预计3-5个工作日到店，已请配件部与经销店确认订单。',
    },
    weight: 8,
    visit: true,
  },
  booking: {
    title: 'Service appointment',
    subject: { en: 'Service appointment booking', zh: '预约保养' },
    ask: {
      en: 'I would like to book the 10,000 km service for my {model} at {dealer}, preferably on a weekday morning.',
      zh: '我想在{dealer}预约{model}的一万公里保养，最好是工作日上午。',
    },
    answer: {
      en: 'Your service at {dealer} is booked for {date} at 09:30. Please bring the vehicle registration; the service takes about two hours.',
      zh: '已为您预约{date}上午9:30在{dealer}保养，请携带行驶证，保养大约需要两个小时。',
    },
    note: { en: '10,000 km service booked at the dealer; confirmation sent.', zh: '已为客户预约一万公里保养，并发送确认信息。' },
    weight: 26,
    visit: true,
  },
  infotainment: {
    title: 'Infotainment update',
    subject: { en: 'Infotainment update: screen freezes after the last update', zh: '车机升级后中控屏卡死' },
    ask: {
      en: 'Since the last over-the-air update the centre screen of my {model} sometimes freezes and CarPlay disconnects. Is there a fix?',
      zh: '上次OTA升级以后，{model}的中控屏偶尔卡死，CarPlay也会断开，有什么解决办法吗？',
    },
    answer: {
      en: 'The next infotainment release fixes this. Until then, hold the volume knob for 10 seconds to restart the screen; {dealer} can also install the update for you.',
      zh: '下一个车机版本会修复这个问题。在此之前，长按音量旋钮10秒可以重启屏幕；{dealer}也可以为您手动升级。',
    },
    note: {
      en: 'Screen freezes and CarPlay drops since OTA update. Gave restart workaround; reported to quality for the next release.',
      zh: 'OTA升级后中控屏卡死、CarPlay断连，已告知重启方法，并反馈给质量部跟进。',
    },
    weight: 12,
    visit: true,
  },
  roadside: {
    title: 'Roadside assistance',
    subject: { en: 'Roadside assistance needed', zh: '请求道路救援' },
    ask: {
      en: 'My {model} will not start this morning and the dashboard shows a battery warning. I need roadside assistance.',
      zh: '今天早上{model}打不着火，仪表盘亮了电瓶故障灯，需要道路救援。',
    },
    answer: {
      en: 'Roadside assistance is on its way and should arrive within 40 minutes; the technician will call you when close.',
      zh: '道路救援已经出发，预计40分钟内到达，技师快到时会给您打电话。',
    },
    note: { en: 'Battery failure, car would not start. Roadside assistance dispatched, ETA 40 minutes.', zh: '电瓶故障无法启动，已派出道路救援，预计40分钟到达。' },
    weight: 8,
  },
  invoice: {
    title: 'Invoice question',
    subject: { en: 'Question about my service invoice', zh: '保养发票疑问' },
    ask: {
      en: 'My invoice from {dealer} charges for brake pads, but I was told they are covered by my maintenance package. Can you check?',
      zh: '{dealer}的发票里收了刹车片的费用，但之前说保养套餐里包含，能帮我核实一下吗？',
    },
    answer: {
      en: 'We checked with {dealer}: the brake pads are covered by your maintenance package. A corrected invoice and the refund will follow within 5 working days.',
      zh: '已与{dealer}核实，刹车片属于保养套餐范围，更正后的发票和退款将在5个工作日内处理。',
    },
    note: { en: 'Brake pads charged although covered by the maintenance package. Finance to issue corrected invoice and refund.', zh: '刹车片在保养套餐内却被收费，已请财务部开具更正发票并退款。' },
    weight: 8,
  },
  waiting: {
    title: 'Complaint: waiting time at dealer',
    subject: { en: 'Complaint about waiting time at the dealer', zh: '投诉：经销店等待时间过长' },
    ask: {
      en: 'I waited more than three hours at {dealer} for an oil change and nobody told me what was going on. This is not acceptable.',
      zh: '我在{dealer}换个机油等了三个多小时，也没有人告诉我进度，这样的服务不能接受。',
    },
    answer: {
      en: 'We are sorry for the wait. We have passed your complaint to our dealer network team, and {dealer} will contact you with a goodwill voucher for your next service.',
      zh: '非常抱歉让您久等。我们已将您的投诉转给经销商网络部，{dealer}会联系您，并为您下次保养提供补偿券。',
    },
    note: { en: 'Complaint about 3h wait at dealer without updates. Escalated to dealer network; goodwill voucher offered.', zh: '客户投诉在经销店等待三小时无人告知进度，已升级给经销商网络部，并提供补偿券。' },
    weight: 5,
  },
  recall: {
    title: 'Recall check',
    subject: { en: 'Is my car affected by a recall?', zh: '我的车在召回范围内吗？' },
    ask: {
      en: 'I read about a recall for the {model}. Is my car (VIN {vin}) affected?',
      zh: '看到新闻说{model}有召回，我的车（车架号{vin}）在召回范围内吗？',
    },
    answer: {
      en: 'We checked your VIN: your car is not part of the current recall campaign. If that changes we will contact you and {dealer} will do the work free of charge.',
      zh: '已查询您的车架号，您的车辆不在本次召回范围内。如有变化我们会主动联系您，{dealer}将免费处理。',
    },
    note: { en: 'Recall enquiry; VIN checked, not in the current campaign.', zh: '召回咨询，已查询车架号，不在本次召回范围内。' },
    weight: 6,
  },
} satisfies Record<string, Topic>;

const topicList: readonly (readonly [Topic, number])[] = Object.values(topics).map((topic) => [topic, topic.weight]);
const complaintTopics: readonly Topic[] = [topics.gearbox, topics.infotainment, topics.waiting];

/** A short exchange after the first question and answer; asks and answers pair up by position. */
const followUps: readonly { ask: Bilingual; answer: Bilingual; visit?: boolean }[] = [
  {
    visit: true,
    ask: { en: 'Thanks. Can I come in on Saturday morning?', zh: '谢谢，这周六上午可以过去吗？' },
    answer: { en: 'Saturday at 09:30 works; we have reserved a slot for you.', zh: '可以，已为您预留周六上午9:30。' },
  },
  {
    visit: true,
    ask: { en: 'OK, how long will it take?', zh: '好的，大概需要多长时间？' },
    answer: { en: 'About two hours. There is a lounge with Wi-Fi while you wait.', zh: '大约两个小时，店里有休息区和Wi-Fi。' },
  },
  {
    visit: true,
    ask: { en: 'Do I need to bring anything?', zh: '需要带什么材料吗？' },
    answer: { en: 'Please bring your driving licence and the vehicle registration.', zh: '请携带驾驶证和行驶证。' },
  },
  {
    ask: { en: 'Got it, thank you!', zh: '收到，谢谢！' },
    answer: { en: "You're welcome. Reply here any time if anything else comes up.", zh: '不客气，如有其他问题随时回复本短信。' },
  },
  {
    ask: { en: 'Thanks for the quick answer.', zh: '谢谢，回复得很及时。' },
    answer: { en: 'Happy to help. Have a safe drive!', zh: '很高兴为您服务，祝您行车平安！' },
  },
];

// ---------------------------------------------------------------------------------------------
// Customers.

export interface DemoCustomer {
  index: number;
  name: string;
  phone: string;
  email?: string;
  tier: CustomerTier;
  tags: string[];
  attributes: Record<string, string | number | boolean>;
  /** Writes in Chinese; agents answer in Chinese. */
  prefersChinese: boolean;
  /** Template values for this customer's messages, in each language. */
  vars: { en: Record<string, string>; zh: Record<string, string> };
}

const day = 86_400_000;
// China has no daylight saving time: Asia/Shanghai is UTC+8 all year.
const shanghaiOffset = 8 * 3_600_000;

/** Midnight today in Asia/Shanghai, as epoch milliseconds; every demo timestamp hangs off it. */
export function shanghaiMidnight(now: number): number {
  return Math.floor((now + shanghaiOffset) / day) * day - shanghaiOffset;
}

export const isoDate = (epoch: number) => new Date(epoch + shanghaiOffset).toISOString().slice(0, 10);

const vinLetters = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const vinLetterValues = [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9];
const vinValue = (char: string) => (/\d/.test(char) ? Number(char) : vinLetterValues[vinLetters.indexOf(char)]);
const vinWeights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
// Model-year letters (VIN position 10) skip I, O, Q, U, Z and 0.
const yearCodes: Record<number, string> = { 2019: 'K', 2020: 'L', 2021: 'M', 2022: 'N', 2023: 'P', 2024: 'R', 2025: 'S', 2026: 'T' };

/** A 17-character VIN with Chery's WMI `LVV` and a correct check digit (ISO 3779 / GB 16735). */
export function demoVin(model: CarModel, year: number, plant: string, serial: number): string {
  const draft = `LVV${model.vds}0${yearCodes[year]}${plant}${String(serial).padStart(6, '0')}`;
  const sum = [...draft].reduce((total, char, position) => total + vinValue(char) * vinWeights[position], 0);
  const check = sum % 11 === 10 ? 'X' : String(sum % 11);
  return draft.slice(0, 8) + check + draft.slice(9);
}

/** The demo customer with this index; phone, email and VIN are unique per index. */
export function demoCustomer(index: number, now: number): DemoCustomer {
  const rng = stream(index, 1);
  const fleet = rng() < 0.03;
  const surname = pick(rng, surnames);
  const given = pick(rng, givenNames);
  const inHanzi = !fleet && rng() < 0.12;
  const prefersChinese = inHanzi || rng() < 0.08;
  const name = fleet ? pick(rng, fleetCompanies) : inHanzi ? surname.zh + given.zh : `${surname.en} ${given.en}`;

  // index -> 8 digits is a bijection (48271 is coprime with 10^8), so numbers never repeat.
  const subscriber = String((index * 48271 + 20_250_101) % 100_000_000).padStart(8, '0');
  const phone = `+86${pick(rng, mobilePrefixes)}${subscriber}`;
  const emailUser = fleet ? `fleet.desk${index}` : `${given.en}.${surname.en}${index}`.toLowerCase();
  const email = fleet || rng() < 0.5 ? `${emailUser}@${pick(rng, emailDomains)}` : undefined;

  const model = weighted(rng, carModels.map((candidate) => [candidate, candidate.weight] as const));
  const modelYear = int(rng, model.years[0], model.years[1]);
  const latestPurchase = Math.min(Date.UTC(modelYear, 11, 31), now - 14 * day);
  const earliestPurchase = Math.min(Date.UTC(modelYear - 1, 8, 1), latestPurchase - 30 * day);
  const purchasedAt = earliestPurchase + Math.floor(rng() * (latestPurchase - earliestPurchase));
  const dealer = pick(rng, dealers);
  const vin = demoVin(model, modelYear, pick(rng, ['D', 'E', 'K']), (index * 7919 + 104_729) % 1_000_000);

  const tierRoll = rng();
  const tier: CustomerTier = fleet ? (tierRoll < 0.3 ? 'vip' : 'gold') : tierRoll < (model.premium ? 0.15 : 0.04) ? 'vip' : tierRoll < 0.2 ? 'gold' : 'standard';
  const tags = [
    ...(fleet ? ['fleet'] : []),
    ...(now - purchasedAt < 180 * day ? ['new-owner'] : []),
    ...(rng() < 0.06 ? ['repeat-complaint'] : []),
    ...(rng() < 0.1 ? ['extended-warranty'] : []),
  ];
  const ageYears = Math.max(0.1, (now - purchasedAt) / (365 * day));
  const attributes: Record<string, string | number | boolean> = {
    vin,
    model: model.en,
    modelYear,
    dealer: dealer.en,
    purchaseDate: isoDate(purchasedAt),
    mileageKm: Math.round((ageYears * int(rng, 9_000, fleet ? 60_000 : 22_000)) / 100) * 100,
    ...(fleet ? { fleetSize: int(rng, 12, 240) } : {}),
    ...(prefersChinese ? { language: 'zh-CN' } : {}),
  };
  return {
    index,
    name,
    phone,
    ...(email ? { email } : {}),
    tier,
    tags,
    attributes,
    prefersChinese,
    vars: {
      en: { model: model.en, dealer: dealer.en, year: String(modelYear), vin },
      zh: { model: model.zh, dealer: dealer.zh, year: String(modelYear), vin },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// History.

/** One `recordInboundEvent` call. `author` numbers an agent in `demoAgentEmails`. */
export interface PlannedEvent {
  externalId: string;
  channel: Channel;
  direction: Direction;
  status: InteractionStatus;
  subject: string;
  entry: Omit<NewEntry, 'authorId'> & { at: Date };
  author?: number;
}

export interface PlannedInteraction {
  events: PlannedEvent[];
  /** The agent's wrap-up note, appended after the events. */
  note?: { text: string; at: Date; author: number };
}

export const fill = (template: string, vars: Record<string, string>) => template.replace(/\{(\w+)\}/g, (_, key: string) => vars[key] ?? '');

export function smsSegments(text: string): number {
  const length = [...text].length;
  // Anything outside ASCII (Chinese) forces UCS-2: 70 characters per SMS, 67 when split.
  const [single, multi] = /[^\x20-\x7e]/.test(text) ? [70, 67] : [160, 153];
  return length <= single ? 1 : Math.ceil(length / multi);
}

export const agentWritesChinese = (author: number) => demoAgents[author].locale === 'zh-CN';

/** The customer's contacts over the past 90 days, oldest first; reruns give the same ids and texts. */
export function demoHistory(customer: DemoCustomer, now: number): PlannedInteraction[] {
  const rng = stream(customer.index, 2);
  const complainer = customer.tags.includes('repeat-complaint');
  const count = complainer || customer.tags.includes('fleet')
    ? int(rng, 5, 8)
    : weighted(rng, [[1, 26], [2, 28], [3, 20], [4, 11], [5, 6], [6, 4], [7, 3], [8, 2]] as const);
  const daysAgo = Array.from({ length: count }, () => int(rng, 0, 89)).sort((left, right) => right - left);
  const complaint = pick(rng, complaintTopics);
  const midnight = shanghaiMidnight(now);
  const lang = customer.prefersChinese ? 'zh' : 'en';

  return daysAgo.map((ago, n) => {
    // A booking made in this contact lands a few days after it.
    const vars = { ...customer.vars[lang], date: isoDate(midnight - (ago - int(rng, 2, 10)) * day) };
    const topic = complainer && rng() < 0.7 ? complaint : weighted(rng, topicList);
    const channel = weighted(rng, [['voice', 35], ['callback', 8], ['sms', 25], ['email', customer.email ? 22 : 0], ['manual', 10]] as const);
    const author = int(rng, 0, demoAgents.length - 1);
    const open = ago <= 6 && channel !== 'voice' && channel !== 'callback' && rng() < 0.5;
    const id = `seed:${customer.index}:${n}`;
    const subject = channel === 'email' ? fill(topic.subject[lang], vars) : topic.title;
    const agentLang = agentWritesChinese(author) ? 'zh' : 'en';
    const noteText = topic.note[agentLang];
    // Offsets from the first event, in minutes; placed inside Shanghai business hours below.
    const steps: { offset: number; make: (at: Date) => Omit<PlannedEvent, 'externalId' | 'subject' | 'status' | 'channel'> }[] = [];
    let note: { offset: number } | undefined;
    const eventChannel: Channel = channel === 'callback' ? 'voice' : channel;
    let status: InteractionStatus = open ? 'open' : 'closed';

    if (channel === 'voice' || channel === 'callback') {
      const inbound = channel === 'voice';
      const abandoned = inbound && rng() < 0.08;
      const waitSeconds = int(rng, 5, abandoned ? 300 : 150);
      const durationSeconds = int(rng, 90, 900);
      if (abandoned) status = 'abandoned';
      steps.push({
        offset: 0,
        make: (at) => ({
          direction: inbound ? 'inbound' : 'outbound',
          ...(inbound ? {} : { author }),
          entry: {
            kind: 'call_event',
            at,
            direction: inbound ? 'inbound' : 'outbound',
            data: abandoned ? { status: 'abandoned', waitSeconds } : { status: 'completed', durationSeconds, ...(inbound ? { waitSeconds } : {}) },
          },
        }),
      });
      if (!abandoned) note = { offset: (waitSeconds + durationSeconds) / 60 + int(rng, 1, 4) };
    } else if (channel === 'sms' || channel === 'email') {
      const followUp = pick(rng, topic.visit ? followUps : followUps.filter((candidate) => !candidate.visit));
      const texts = channel === 'sms' ? [topic.ask, topic.answer, followUp.ask, followUp.answer] : [topic.ask, topic.answer];
      const length = open ? (channel === 'sms' && rng() < 0.5 ? 3 : 1) : channel === 'sms' ? int(rng, 2, 4) : 2;
      let offset = 0;
      for (let m = 0; m < length; m += 1) {
        const inbound = m % 2 === 0;
        const text = channel === 'email' ? emailText(fill(texts[m][lang], vars), inbound, customer, author, lang) : fill(texts[m][lang], vars);
        steps.push({
          offset,
          make: (at) => ({
            direction: inbound ? 'inbound' : 'outbound',
            ...(inbound ? {} : { author }),
            entry: { kind: 'message', at, direction: inbound ? 'inbound' : 'outbound', text, data: channel === 'sms' ? { segments: smsSegments(text) } : { subject: inbound ? subject : `Re: ${subject}` } },
          }),
        });
        offset += channel === 'sms' ? int(rng, 2, 25) : int(rng, 45, 26 * 60);
      }
      if (!open && rng() < 0.3) note = { offset: offset + int(rng, 1, 10) };
    } else {
      const walkIn = fill(agentLang === 'zh' ? '客户到{dealer}前台咨询：' : 'Walk-in at {dealer} front desk: ', customer.vars[agentLang]) + noteText;
      steps.push({
        offset: 0,
        make: (at) => ({ direction: 'inbound', author, entry: { kind: 'note', at, direction: 'internal', text: walkIn, data: { visit: 'walk-in' } } }),
      });
    }

    const span = Math.max(note?.offset ?? 0, steps[steps.length - 1].offset) * 60_000;
    // Business hours 08:30-20:30 Shanghai time; anything that would end in the future moves back a day.
    let start = midnight - ago * day + (8.5 * 60 + int(rng, 0, 12 * 60)) * 60_000;
    while (start + span > now - 60_000) start -= day;
    const events = steps.map((step, m) => ({
      externalId: m === 0 ? id : `${id}:${m}`,
      channel: eventChannel,
      status,
      subject,
      ...step.make(new Date(start + step.offset * 60_000)),
    }));
    return { events, ...(note ? { note: { text: noteText, at: new Date(start + note.offset * 60_000), author } } : {}) };
  });
}

export function emailText(body: string, inbound: boolean, customer: DemoCustomer, author: number, lang: 'en' | 'zh'): string {
  const agent = demoAgents[author].name;
  if (lang === 'zh') return inbound ? `您好：\n\n${body}\n\n${customer.name}` : `${customer.name}，您好：\n\n${body}\n\n奇瑞汽车客户服务中心 ${agent}`;
  return inbound ? `Hello Chery service team,\n\n${body}\n\nBest regards,\n${customer.name}` : `Dear ${customer.name},\n\n${body}\n\nKind regards,\n${agent}\nChery Customer Service`;
}
